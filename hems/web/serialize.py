"""Domain objects -> JSON-ready dicts for the web API. Pure functions, no I/O.

Powers stay in W with the hems signs (grid + import, EV + charging, PV + generation);
times are ISO 8601 UTC strings. The browser converts to local time for display.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from hems.control.api import AgentApi
from hems.domain import ChargerReading, Commitment, EvSession, Plan, Preferences, Setpoint, SiteState


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def num(value: float | None, digits: int = 1) -> float | None:
    """A finite rounded float, or None (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def charger_json(reading: ChargerReading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {
        "at": iso(reading.at),
        "ev_power_w": num(reading.ev_power_w),
        "state": reading.state.value,
        "plugged": reading.plugged,
        "soc_pct": num(reading.soc_pct),
        "setpoint_w": num(reading.setpoint_w),
        "max_charge_w": num(reading.max_charge_w),
        "max_discharge_w": num(reading.max_discharge_w),
        "fault": reading.fault,
    }


def setpoint_json(setpoint: Setpoint | None) -> dict[str, Any] | None:
    if setpoint is None:
        return None
    return {
        "at": iso(setpoint.at),
        "ev_power_w": num(setpoint.ev_power_w),
        "reason": setpoint.reason,
        "clamped_by": list(setpoint.clamped_by),
    }


def state_json(state: SiteState | None, setpoint: Setpoint | None, prefs: Preferences,
               next_trip: EvSession | None = None) -> dict[str, Any]:
    """The live picture: flows, SoC, plugged, what hems does now and why, the trip aimed at."""
    meter = state.meter if state is not None else None
    pv = state.pv if state is not None else None
    charger = state.charger if state is not None else None
    return {
        "at": iso(state.at) if state is not None else None,
        "grid_power_w": num(meter.grid_power_w) if meter is not None else None,
        "pv_power_w": num(pv.pv_power_w) if pv is not None else None,
        "ev_power_w": num(charger.ev_power_w) if charger is not None else None,
        "house_load_w": num(state.load_w) if state is not None else None,
        "soc_pct": num(charger.soc_pct) if charger is not None else None,
        "plugged": charger.plugged if charger is not None else False,
        "charger_state": charger.state.value if charger is not None else None,
        "fault": charger.fault if charger is not None else None,
        "stale": list(state.stale) if state is not None else [],
        "setpoint": setpoint_json(setpoint),
        "mode": prefs.mode.value,
        "reserve_pct": num(prefs.reserve_pct),
        "next_trip": trip_json(next_trip),
    }


def trip_json(trip: EvSession | None) -> dict[str, Any] | None:
    if trip is None:
        return None
    return {"departure": iso(trip.departure), "target_soc_pct": num(trip.target_soc_pct)}


def preferences_json(prefs: Preferences) -> dict[str, Any]:
    return {"mode": prefs.mode.value, "reserve_pct": num(prefs.reserve_pct), "next_trip": trip_json(prefs.next_trip)}


def plan_json(plan: Plan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "start": iso(plan.start),
        "interval_s": int(plan.interval_s),
        "ev_w": [num(v) for v in plan.ev_w],
        "soc_pct": [num(v) for v in plan.soc_pct],
        "grid_w": [num(v) for v in plan.grid_w],
        "cost": num(plan.cost, 3),
        "solve_ms": num(plan.solve_ms, 2),
        "breakdown": {k: num(v, 3) for k, v in plan.breakdown.items()},
        "series": {k: series_json(v) for k, v in plan.series().items()},
        "target_shortfall_pct": num(plan.target_shortfall_pct),
    }


def series_json(values: Any) -> list[Any]:
    """A per-interval list of the plan's: numbers rounded, words (reasons) kept."""
    return [v if isinstance(v, str) or v is None else num(v, 4) for v in values]


def commitment_json(c: Commitment) -> dict[str, Any]:
    return {
        "id": c.id,
        "start": iso(c.start),
        "end": iso(c.end),
        "min_ev_w": num(c.min_ev_w),
        "max_ev_w": num(c.max_ev_w),
        "priority": c.priority,
    }


def jsonable(value: Any) -> Any:
    """Best effort for free-form dicts from device_status(): datetimes to ISO, NaN to None."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float):
        return num(value, 3)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value   # enums
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def live_state(agent: AgentApi, now: datetime) -> dict[str, Any]:
    """/api/v1/state and the SSE `state` event."""
    return state_json(agent.state, agent.last_setpoint, agent.preferences, agent.next_trip(now))
