"""Pure rules that turn the state, the owner's wishes and the plan into a requested EV power.

The result is a request: the safety function (hems.control.safety) has the last word.
Powers in W (+ charging), SoC in %, energy in Wh, times aware UTC.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from hems.domain import Commitment, Mode, Plan, SiteState


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


def solar_surplus_w(state: SiteState) -> float:
    """PV power not used by the house (W): what the car could take without importing."""
    assert state.meter is not None and state.charger is not None
    return -(state.meter.grid_power_w - state.charger.ev_power_w)


def interim_request(state: SiteState, mode: Mode, departure: datetime, target_pct: float,
                    car: CarLimits, now: datetime, tz: tzinfo = timezone.utc) -> tuple[float, str]:
    """The rule for the Off, Fast and Solar-only modes, and for Smart when no plan is in force.

    Never discharges. Off -> 0; Fast -> full power; reach the target by departure at the latest
    moment that is still safe; otherwise charge from PV surplus; otherwise wait.
    """
    if mode is Mode.OFF:
        return 0.0, "off: the owner switched charging off"
    if state.charger is None or not state.charger.plugged:
        return 0.0, "no car plugged in"
    if mode is Mode.FAST:
        return car.max_charge_w, "fast: charging at full power now"
    soc = state.charger.soc_pct
    if soc is not None and must_charge_now(soc, target_pct, departure, now, car):
        return car.max_charge_w, f"charging to reach {target_pct:.0f} % by {departure.astimezone(tz):%H:%M}"
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
