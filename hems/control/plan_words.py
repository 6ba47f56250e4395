"""What the plan will do for the car, in the owner's words (pure).

`trip_confirmation` is what the owner reads after saving a trip ("charges 12 kWh 01:15-03:00,
80 % by Tue 07:30"); `plan_status` says what the Plan page shows in each mode and while the car
is away.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from hems.domain import EvSession, Mode, Plan

AWAY = "car away, plan resumes when it is back"
PAUSED = "plan paused: mode Off"


def _day_time(when: datetime, tz: tzinfo) -> str:
    return f"{when.astimezone(tz):%a %H:%M}"


def _goal(trip: EvSession, tz: tzinfo) -> str:
    if trip.energy_wh is not None:
        return f"{trip.energy_wh / 1000:.0f} kWh added by {_day_time(trip.departure, tz)}"
    return f"{trip.target_soc_pct:.0f} % by {_day_time(trip.departure, tz)}"


def charging_before(plan: Plan, until: datetime) -> tuple[float, datetime | None, datetime | None]:
    """(AC energy charged in Wh, first charging interval's start, last one's end) before `until`."""
    step = timedelta(seconds=plan.interval_s)
    energy_wh, first, last = 0.0, None, None
    for k, power_w in enumerate(plan.ev_w):
        start = plan.start + k * step
        if start >= until:
            break
        if power_w > 0:
            energy_wh += float(power_w) * plan.interval_s / 3600
            first = first or start
            last = min(start + step, until)
    return energy_wh, first, last


def trip_confirmation(plan: Plan | None, trip: EvSession | None, mode: Mode, plugged: bool,
                      tz: tzinfo, next_trip: EvSession | None = None) -> str:
    """What will happen for this trip, from the plan in force and the mode. A trip after the
    next one (`next_trip`) is planned once the car is back from that one."""
    if trip is None:
        return "no trip planned"
    if next_trip is not None and next_trip.departure < trip.departure:
        first = trip_confirmation(plan, next_trip, mode, plugged, tz)
        return f"{_goal(trip, tz)}: planned after the trip of {_day_time(next_trip.departure, tz)} ({first})"
    goal = _goal(trip, tz)
    if mode is Mode.OFF:
        return f"mode Off: hems will not charge for {goal}"
    if mode is Mode.FAST:
        return f"charging at full power now (mode Fast), aiming at {goal}"
    if not plugged:
        return f"{goal}: charging starts when the car is plugged in"
    if plan is None:
        return f"{goal}: planning"
    energy_wh, first, last = charging_before(plan, trip.departure)
    if mode is Mode.SOLAR_ONLY:
        words = f"charges {energy_wh / 1000:.0f} kWh from solar" if energy_wh >= 500 else "little solar expected"
        return f"{words}; from the grid only when needed for {goal}"
    if energy_wh < 100 or first is None or last is None:
        return f"no charging needed for {goal}"
    words = f"charges {energy_wh / 1000:.0f} kWh {first.astimezone(tz):%H:%M}-{last.astimezone(tz):%H:%M}, {goal}"
    if plan.target_shortfall_pct > 0.5:
        words += f" ({plan.target_shortfall_pct:.0f} % short: not enough time)"
    return words


def plan_status(mode: Mode, plugged: bool) -> tuple[str, str]:
    """(kind, words) for the Plan page: smart, solar_only, fast, paused or away."""
    if mode is Mode.OFF:
        return "paused", PAUSED
    if not plugged:
        return "away", AWAY
    if mode is Mode.FAST:
        return "fast", "mode Fast now: charging at full power until the car is full"
    if mode is Mode.SOLAR_ONLY:
        return "solar_only", "mode Solar only: charging from surplus solar power"
    return "smart", "mode Smart: the cheapest plan that meets your trip"
