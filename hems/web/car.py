"""Car API: next trip (departure + target), weekly schedule, reserve, mode, one-tap charge now.

Every change goes to the agent at once through AgentApi (its settings owner stores it, and it
replans). All are audited.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from aiohttp import web

from hems.domain import EvSession, Mode, Preferences
from hems.web import keys
from hems.web.auth import access, audit
from hems.web.errors import ApiError
from hems.web.schedule import DAYS, from_weekly, next_local, to_weekly
from hems.web.serialize import iso, preferences_json, trip_json
from hems.web.sitetime import tz_name
from hems.web.validate import (
    body_json, require_bool, require_choice, require_datetime, require_hhmm, require_number,
)

log = logging.getLogger(__name__)

MODE_BEFORE_FAST_KEY = "car.mode_before_fast"
MAX_TRIP_AHEAD = timedelta(days=7)
MAX_RESERVE_PCT = 80.0
MODES = [m.value for m in Mode]


async def apply_preferences(app: web.Application, prefs: Preferences, who: str) -> None:
    """Hand new preferences to the agent: it stores them, logs who, and replans at once."""
    await app[keys.AGENT].set_preferences(prefs, who)


def current_schedule(app: web.Application) -> dict[str, Any]:
    """The weekly schedule in force: the owner's saved one, else config.toml's."""
    return from_weekly(app[keys.AGENT].live_settings().weekly)


def car_json(app: web.Application) -> dict[str, Any]:
    agent = app[keys.AGENT]
    prefs = agent.preferences
    now = app[keys.CLOCK].now()
    one_off = prefs.next_trip if prefs.next_trip is not None and prefs.next_trip.departure > now else None
    return {
        "preferences": preferences_json(prefs),
        "next_trip": trip_json(agent.next_trip(now)),
        "next_trip_source": "one-off" if one_off is not None else "schedule",
        "schedule": current_schedule(app),
        "charge_now": prefs.mode is Mode.FAST,
        "timezone": tz_name(app[keys.TZ]),
        "now": iso(app[keys.CLOCK].now()),
    }


@access("read")
async def get_car(request: web.Request) -> web.Response:
    return web.json_response(car_json(request.app))


@access("admin")
async def put_trip(request: web.Request) -> web.Response:
    """departure: ISO date-time with offset, or 'HH:MM' (next time the site's clock shows it)."""
    app = request.app
    body = await body_json(request, allowed={"departure", "target_soc_pct"}, required={"departure", "target_soc_pct"})
    now = app[keys.CLOCK].now()
    prefs: Preferences = app[keys.AGENT].preferences
    raw = body["departure"]
    if isinstance(raw, str) and len(raw) == 5 and ":" in raw:
        departure = next_local(require_hhmm(raw, "departure"), now, app[keys.TZ])
    else:
        departure = require_datetime(raw, "departure")
    if departure <= now:
        raise ApiError(422, "departure must be in the future", "departure")
    if departure > now + MAX_TRIP_AHEAD:
        raise ApiError(422, "departure must be within the next 7 days", "departure")
    target = require_number(body["target_soc_pct"], "target_soc_pct", 10, 100, " %")
    if target < prefs.reserve_pct:
        raise ApiError(422, f"target_soc_pct ({target:g} %) is below the reserve ({prefs.reserve_pct:g} %)",
                       "target_soc_pct")
    new = replace(prefs, next_trip=EvSession(departure=departure, target_soc_pct=target))
    await apply_preferences(app, new, request[keys.WHO])
    audit(request, "set_trip", trip_json(new.next_trip))
    return web.json_response(car_json(app))


@access("admin")
async def delete_trip(request: web.Request) -> web.Response:
    app = request.app
    prefs: Preferences = app[keys.AGENT].preferences
    await apply_preferences(app, replace(prefs, next_trip=None), request[keys.WHO])
    audit(request, "clear_trip", {})
    return web.json_response(car_json(app))


@access("admin")
async def put_mode(request: web.Request) -> web.Response:
    app = request.app
    body = await body_json(request, allowed={"mode"}, required={"mode"})
    mode = Mode(require_choice(body["mode"], "mode", MODES))
    prefs: Preferences = app[keys.AGENT].preferences
    await apply_preferences(app, replace(prefs, mode=mode), request[keys.WHO])
    audit(request, "set_mode", {"mode": mode.value, "was": prefs.mode.value})
    return web.json_response(car_json(app))


@access("admin")
async def put_reserve(request: web.Request) -> web.Response:
    app = request.app
    body = await body_json(request, allowed={"reserve_pct"}, required={"reserve_pct"})
    reserve = require_number(body["reserve_pct"], "reserve_pct", 0, MAX_RESERVE_PCT, " %")
    prefs: Preferences = app[keys.AGENT].preferences
    if prefs.next_trip is not None and prefs.next_trip.target_soc_pct < reserve:
        raise ApiError(422, f"reserve_pct ({reserve:g} %) is above the next trip's target "
                       f"({prefs.next_trip.target_soc_pct:g} %)", "reserve_pct")
    await apply_preferences(app, replace(prefs, reserve_pct=reserve), request[keys.WHO])
    audit(request, "set_reserve", {"reserve_pct": reserve, "was": prefs.reserve_pct})
    return web.json_response(car_json(app))


@access("admin")
async def post_charge_now(request: web.Request) -> web.Response:
    """{"on": true}: charge at full power now (mode Fast); {"on": false}: back to the previous mode."""
    app = request.app
    db = app[keys.DB]
    body = await body_json(request, allowed={"on"}, required={"on"})
    on = require_bool(body["on"], "on")
    prefs: Preferences = app[keys.AGENT].preferences
    now = app[keys.CLOCK].now()
    if on and prefs.mode is not Mode.FAST:
        db.put_setting(MODE_BEFORE_FAST_KEY, prefs.mode.value, now, request[keys.WHO])
        new_mode = Mode.FAST
    elif not on and prefs.mode is Mode.FAST:
        new_mode = Mode(db.get_setting(MODE_BEFORE_FAST_KEY, Mode.SMART.value))
    else:
        return web.json_response(car_json(app))
    await apply_preferences(app, replace(prefs, mode=new_mode), request[keys.WHO])
    audit(request, "charge_now", {"on": on, "mode": new_mode.value})
    return web.json_response(car_json(app))


def parse_schedule(days: Any) -> dict[str, Any]:
    if not isinstance(days, dict):
        raise ApiError(422, "days must be an object keyed by mon..sun", "days")
    unknown = sorted(set(days) - set(DAYS))
    if unknown:
        raise ApiError(422, f"unknown day {unknown[0]!r}; use {', '.join(DAYS)}", "days")
    out: dict[str, Any] = {}
    for day in DAYS:
        entry = days.get(day)
        if entry is None:
            out[day] = None
            continue
        field = f"days.{day}"
        if not isinstance(entry, dict) or set(entry) != {"departure", "target_soc_pct"}:
            raise ApiError(422, f"{field} must be null or {{departure: 'HH:MM', target_soc_pct}}", field)
        out[day] = {
            "departure": require_hhmm(entry["departure"], f"{field}.departure"),
            "target_soc_pct": require_number(entry["target_soc_pct"], f"{field}.target_soc_pct", 10, 100, " %"),
        }
    return out


@access("admin")
async def put_schedule(request: web.Request) -> web.Response:
    app = request.app
    body = await body_json(request, allowed={"days"}, required={"days"})
    schedule = parse_schedule(body["days"])
    await app[keys.AGENT].set_weekly(to_weekly(schedule), request[keys.WHO])
    audit(request, "set_schedule", schedule)
    return web.json_response(car_json(app))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/car", get_car)
    app.router.add_put("/api/v1/car/trip", put_trip)
    app.router.add_delete("/api/v1/car/trip", delete_trip)
    app.router.add_put("/api/v1/car/mode", put_mode)
    app.router.add_put("/api/v1/car/reserve", put_reserve)
    app.router.add_post("/api/v1/car/charge-now", post_charge_now)
    app.router.add_put("/api/v1/car/schedule", put_schedule)
