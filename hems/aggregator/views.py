"""Pure conversions from the agent's view to the link's messages (telemetry, plan, baseline)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from hems.aggregator.messages import format_time
from hems.control.commitments import flex_view
from hems.domain import Envelope, Plan, SiteState


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


def plan_message(site_id: str, plan: Plan, envelope: Envelope | None, now: datetime) -> dict[str, Any]:
    r = lambda a, d=1: [round(float(x), d) for x in a]  # noqa: E731
    flex = flex_view(plan, envelope)
    soc_min = envelope.soc_min_pct if envelope is not None else None
    soc_max = envelope.soc_max_pct if envelope is not None else None
    return {
        "v": 1, "site_id": site_id, "at": format_time(now), "start": format_time(plan.start),
        "interval_s": int(plan.interval_s), "ev_w": r(plan.ev_w), "grid_w": r(plan.grid_w),
        "soc_pct": r(plan.soc_pct, 2),
        "up_w": r(flex.up_w) if flex else None, "down_w": r(flex.down_w) if flex else None,
        "soc_min_pct": r(soc_min, 2) if soc_min is not None else None,
        "soc_max_pct": r(soc_max, 2) if soc_max is not None else None,
    }
