"""Pure conversions between the agent's view and the link's messages and arbitration inputs."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from hems.aggregator.arbitration import Flex, HomeLimits
from hems.aggregator.messages import format_time
from hems.domain import Plan, Preferences, SiteState


def flex_view(plan: Plan | None, envelope: Any) -> Flex | None:
    """The planner's envelope (hems.planner.Envelope) around the plan, as arbitration reads it."""
    if plan is None or envelope is None:
        return None
    base = np.asarray(plan.ev_w, dtype=float)
    n = len(base)
    lo = getattr(envelope, "ev_min_w", None)
    hi = getattr(envelope, "ev_max_w", None)
    if lo is None or hi is None:
        lo = base - np.asarray(envelope.down_w, dtype=float)
        hi = base + np.asarray(envelope.up_w, dtype=float)
    lo, hi = np.asarray(lo, dtype=float)[:n], np.asarray(hi, dtype=float)[:n]
    if len(lo) != n or len(hi) != n:
        return None
    soc_min = getattr(envelope, "soc_min_pct", None)
    return Flex(start=getattr(envelope, "start", None) or plan.start, interval_s=int(plan.interval_s),
                baseline_ev_w=base, up_w=np.maximum(hi - base, 0.0), down_w=np.maximum(base - lo, 0.0),
                rest_grid_w=np.asarray(plan.grid_w, dtype=float) - base,
                soc_pct=np.asarray(plan.soc_pct, dtype=float),
                soc_min_pct=None if soc_min is None else np.asarray(soc_min, dtype=float))


def home_limits(limits: Any, car: Any, prefs: Preferences, state: SiteState | None) -> HomeLimits:
    """From hems.control.safety.SafetyLimits, hems.control.decide.CarLimits (or None), the
    owner's preferences and the latest state."""
    charger = state.charger if state is not None else None
    return HomeLimits(
        max_charge_w=float(limits.max_charge_w), max_discharge_w=float(limits.max_discharge_w),
        min_charge_w=float(limits.min_charge_w), reserve_pct=float(prefs.reserve_pct),
        min_discharge_w=float(getattr(limits, "min_discharge_w", 0.0) or 0.0),
        soc_pct=charger.soc_pct if charger is not None else None,
        plugged=bool(charger is not None and charger.plugged and "charger" not in state.stale),
        capacity_wh=getattr(car, "capacity_wh", None),
        efficiency=float(getattr(car, "charge_efficiency", 0.9) or 0.9),
    )


def baseline_slice(plan: Plan, start: datetime, end: datetime) -> dict[str, Any]:
    """The plan's EV power over [start, end) with its interval grid: the event's baseline."""
    k0 = max(0, int((start - plan.start).total_seconds() // plan.interval_s))
    k1 = min(len(plan.ev_w), int(-(-(end - plan.start).total_seconds() // plan.interval_s)))
    first = plan.start.timestamp() + k0 * plan.interval_s
    return {"start": format_time(datetime.fromtimestamp(first, tz=plan.start.tzinfo)),
            "interval_s": int(plan.interval_s),
            "ev_w": [round(float(x), 1) for x in plan.ev_w[k0:max(k0, k1)]]}


def _num(x: float | None) -> float | None:
    return None if x is None else round(float(x), 1)


def telemetry_message(site_id: str, state: SiteState | None, setpoint: Any, active: list[str],
                      now: datetime) -> dict[str, Any]:
    meter = state.meter if state else None
    pv = state.pv if state else None
    charger = state.charger if state else None
    return {
        "v": 1, "site_id": site_id, "at": format_time(state.at if state else now),
        "pv_w": _num(pv.pv_power_w) if pv else None,
        "load_w": _num(state.load_w) if state else None,
        "grid_w": _num(meter.grid_power_w) if meter else None,
        "ev_w": _num(charger.ev_power_w) if charger else None,
        "soc_pct": _num(charger.soc_pct) if charger else None,
        "plugged": charger.plugged if charger else None,
        "setpoint_w": _num(setpoint.ev_power_w) if setpoint is not None else None,
        "setpoint_reason": setpoint.reason if setpoint is not None else None,
        "stale": list(state.stale) if state else [],
        "active": active,
    }


def plan_message(site_id: str, plan: Plan, envelope: Any, now: datetime) -> dict[str, Any]:
    r = lambda a, d=1: [round(float(x), d) for x in a]  # noqa: E731
    flex = flex_view(plan, envelope)
    soc_min = getattr(envelope, "soc_min_pct", None) if envelope is not None else None
    soc_max = getattr(envelope, "soc_max_pct", None) if envelope is not None else None
    return {
        "v": 1, "site_id": site_id, "at": format_time(now), "start": format_time(plan.start),
        "interval_s": int(plan.interval_s), "ev_w": r(plan.ev_w), "grid_w": r(plan.grid_w),
        "soc_pct": r(plan.soc_pct, 2),
        "up_w": r(flex.up_w) if flex else None, "down_w": r(flex.down_w) if flex else None,
        "soc_min_pct": r(soc_min, 2) if soc_min is not None else None,
        "soc_max_pct": r(soc_max, 2) if soc_max is not None else None,
    }
