"""Pure rules that turn the state, the owner's wishes and the plan into a requested EV power.

The result is a request: the safety function (hems.control.safety) has the last word.
Powers in W (+ charging), SoC in %, energy in Wh, times aware UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from hems.domain import Commitment, EvSession, Mode, Plan, Preferences, SiteState


@dataclass(frozen=True)
class CarLimits:
    capacity_wh: float
    min_charge_w: float
    max_charge_w: float
    charge_efficiency: float
    max_soc_pct: float = 100.0


def energy_to_target_wh(soc_pct: float, target_pct: float, car: CarLimits) -> float:
    """Energy the charger must deliver (AC side, Wh) to lift the car from soc to target."""
    return max(0.0, target_pct - soc_pct) / 100.0 * car.capacity_wh / car.charge_efficiency


def must_charge_now(soc_pct: float, target_pct: float, departure: datetime, now: datetime,
                    car: CarLimits, margin: float = 1.15) -> bool:
    """True when charging at full power from now on is needed to be ready by departure."""
    need_wh = energy_to_target_wh(soc_pct, target_pct, car) * margin
    left_h = (departure - now).total_seconds() / 3600.0
    return need_wh > 0 and need_wh >= car.max_charge_w * left_h


def battery_care_max_pct(installer_max_pct: float, soft_max_pct: float | None, trip_target_pct: float | None) -> float:
    """The highest level the planner may aim at: the owner's soft maximum, unless the next trip asks
    for more (then the installer's, and `battery_care_hold` keeps the time above it short)."""
    if soft_max_pct is None or (trip_target_pct is not None and trip_target_pct > soft_max_pct):
        return installer_max_pct
    return min(installer_max_pct, soft_max_pct)


def battery_care_hold(level_pct: float | None, soft_max_pct: float | None, hours_above: float,
                      departure: datetime | None, target_pct: float, now: datetime, car: CarLimits) -> bool:
    """True: do not charge now. The level is at or above the owner's soft maximum and either no
    trip asks for more, or the departure is more than `hours_above` away and the target is still
    reachable by charging later (so the battery spends at most that long above the soft maximum)."""
    if soft_max_pct is None or level_pct is None or level_pct < soft_max_pct:
        return False
    if departure is None or target_pct <= soft_max_pct:
        return True
    if now >= departure - timedelta(hours=hours_above):
        return False
    return not must_charge_now(level_pct, target_pct, departure, now, car)


def apply_battery_care(power_w: float, reason: str, mode: Mode, prefs: Preferences, level_pct: float | None,
                       trip: EvSession | None, now: datetime, car: CarLimits) -> tuple[float, str]:
    """Hold a charge request at the owner's soft maximum (battery_care_hold); never in Fast."""
    if power_w <= 0 or mode is Mode.FAST or prefs.soft_max_soc_pct is None:
        return power_w, reason
    if battery_care_hold(level_pct, prefs.soft_max_soc_pct, prefs.hours_above_soft_max,
                         trip.departure if trip else None, trip.target_soc_pct if trip else 0.0, now, car):
        return 0.0, f"battery care: holding at {prefs.soft_max_soc_pct:.0f} % until closer to leaving"
    return power_w, reason


def solar_surplus_w(state: SiteState) -> float:
    """PV power not used by the house (W): what the car could take without importing."""
    assert state.meter is not None and state.charger is not None
    return -(state.meter.grid_power_w - state.charger.ev_power_w)


def interim_request(state: SiteState, mode: Mode, departure: datetime, target_pct: float,
                    car: CarLimits, now: datetime, tz: tzinfo = timezone.utc,
                    start_pct: float | None = None, by_energy: bool = False) -> tuple[float, str]:
    """The rule for the Off, Fast and Solar-only modes, and for Smart when no plan is in force.

    Never discharges. Off -> 0; Fast -> full power; reach the target by departure at the latest
    moment that is still safe; otherwise charge from PV surplus; otherwise wait.
    `start_pct`/`target_pct` are the planner's (hems.control.car_plan): the lowest known level,
    or with `by_energy` the energy to add as a share of the capacity from 0; `start_pct` None:
    the charger's reading.
    """
    if mode is Mode.OFF:
        return 0.0, "off: the owner switched charging off"
    if state.charger is None or not state.charger.plugged:
        return 0.0, "no car plugged in"
    if mode is Mode.FAST:
        return car.max_charge_w, "fast: charging at full power now"
    soc = state.charger.soc_pct
    start = soc if start_pct is None else start_pct
    if start is not None and must_charge_now(start, target_pct, departure, now, car):
        at = departure.astimezone(tz)
        if by_energy:
            add_kwh = target_pct / 100.0 * car.capacity_wh / 1000.0
            return car.max_charge_w, f"charging to add {add_kwh:.1f} kWh by {at:%H:%M}"
        return car.max_charge_w, f"charging to reach {target_pct:.0f} % by {at:%H:%M}"
    surplus_w = solar_surplus_w(state) if state.meter is not None else 0.0
    if surplus_w >= car.min_charge_w and (soc is None or soc < car.max_soc_pct):
        return min(surplus_w, car.max_charge_w), "charging from solar"
    return 0.0, "waiting for solar or cheaper hours"


def plan_request(plan: Plan, now: datetime) -> tuple[float, str] | None:
    """The plan's power for the current interval (Smart mode); None if the plan ran out."""
    k = plan.index_at(now)
    if k is None:
        return None
    power_w = float(plan.ev_w[k])
    return power_w, plan_reason(plan, k, power_w)


def plan_reason(plan: Plan, k: int, power_w: float) -> str:
    """Why the plan does this now, in the owner's words."""
    if k < len(plan.reasons) and plan.reasons[k]:
        return plan.reasons[k]
    if power_w > 0:
        return "charging: planned (cheapest or solar hours)"
    if power_w < 0:
        return "discharging: planned (expensive hours)"
    return "idle: planned"


def apply_commitments(power_w: float, reason: str, commitments: list[Commitment],
                      now: datetime, tz: tzinfo = timezone.utc) -> tuple[float, str]:
    """Hold the request within every active accepted commitment (highest priority last wins)."""
    for c in sorted(commitments, key=lambda c: c.priority):
        if c.start <= now < c.end:
            bounded_w = min(max(power_w, c.min_ev_w), c.max_ev_w)
            if bounded_w != power_w or c.min_ev_w == c.max_ev_w:
                power_w, reason = bounded_w, f"aggregator event until {c.end.astimezone(tz):%H:%M}"
    return power_w, reason
