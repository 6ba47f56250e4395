"""Car API: next trip (departure + target), weekly schedule, reserve, mode, one-tap charge now,
and how full the car is (known with its source and error, or entered by the owner).

Every change goes to the agent at once through AgentApi (its settings owner stores it, and it
replans). All are audited.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from hems.control.api import Refused
from hems.control.plan_words import plan_status, trip_confirmation
from hems.control.trips import TripError, check_departure, local_departure
from hems.domain import ChargingNeeds, EvSession, Mode, Preferences
from hems.web import keys
from hems.web.auth import access, audit
from hems.web.errors import ApiError
from hems.web.schedule import DAYS, from_weekly, next_local, parse_hhmm, to_weekly
from hems.web.serialize import iso, preferences_json, soc_json, trip_json
from hems.web.sitetime import tz_name
from hems.web.validate import (
    body_json, require_bool, require_choice, require_datetime, require_hhmm, require_number,
)

log = logging.getLogger(__name__)

MODE_BEFORE_FAST_KEY = "car.mode_before_fast"
MAX_TRIP_AHEAD = timedelta(days=31)
MAX_TRIP_ENERGY_WH = 200_000.0
MAX_RESERVE_PCT = 80.0
MODES = [m.value for m in Mode]


async def apply_preferences(app: web.Application, prefs: Preferences, who: str) -> None:
    """Hand new preferences to the agent: it stores them, logs who, and replans at once."""
    await app[keys.AGENT].set_preferences(prefs, who)


def current_schedule(app: web.Application) -> dict[str, Any]:
    """The weekly schedule in force: the owner's saved one, else config.toml's."""
    return from_weekly(app[keys.AGENT].live_settings().weekly)


def car_json(app: web.Application, saved: EvSession | None = None) -> dict[str, Any]:
    """The Car page's data; `confirmation` says what will happen for the trip just `saved`
    (else for the next trip)."""
    agent = app[keys.AGENT]
    prefs = agent.preferences
    now = app[keys.CLOCK].now()
    one_off = prefs.next_trip if prefs.next_trip is not None and prefs.next_trip.departure > now else None
    state = agent.state
    charger = state.charger if state is not None else None
    plugged = bool(charger is not None and charger.plugged)
    trip = agent.next_trip(now)
    kind, words = plan_status(prefs.mode, plugged)
    return {
        "plugged": plugged,
        "status": {"kind": kind, "message": words},
        "confirmation": trip_confirmation(agent.plan, saved or trip, prefs.mode, plugged, app[keys.TZ], trip),
        "soc": soc_json(agent.car_soc),
        "preferences": preferences_json(prefs),
        "battery_care": battery_care_json(app),
        "next_trip": trip_json(trip),
        "car_offer": car_offer_json(charger.needs if charger is not None and plugged else None, now),
        "next_trip_source": "one-off" if one_off is not None and trip == one_off else "schedule",
        "schedule": current_schedule(app),
        "charge_now": prefs.mode is Mode.FAST,
        "timezone": tz_name(app[keys.TZ]),
        "now": iso(app[keys.CLOCK].now()),
    }


def car_offer_json(needs: ChargingNeeds | None, now: datetime) -> dict[str, Any] | None:
    """What the car asked for over ISO 15118, as a trip the owner may take (never taken by itself):
    only a departure ahead, within the trips' 31 days."""
    if needs is None or needs.departure is None or not now < needs.departure <= now + MAX_TRIP_AHEAD:
        return None
    return {"departure": iso(needs.departure), "energy_wh": needs.energy_wh,
            "target_soc_pct": needs.target_soc_pct, "bidirectional": needs.bidirectional}


@access("read")
async def get_car(request: web.Request) -> web.Response:
    return web.json_response(car_json(request.app))


@access("admin")
async def put_trip(request: web.Request) -> web.Response:
    """A one-off trip. departure: ISO date-time with offset, or 'HH:MM' local with `day` ('today',
    'tomorrow' or 'YYYY-MM-DD'; without `day`: the next time the site's clock shows it).
    energy_wh (optional): the energy to add, for a car whose charge level is unknown."""
    app = request.app
    body = await body_json(request, allowed={"departure", "day", "target_soc_pct", "energy_wh"},
                           required={"departure", "target_soc_pct"})
    now = app[keys.CLOCK].now()
    prefs: Preferences = app[keys.AGENT].preferences
    departure = _departure(body, now, app[keys.TZ])
    if departure > now + MAX_TRIP_AHEAD:
        raise ApiError(422, "departure must be within the next 31 days", "departure")
    target = require_number(body["target_soc_pct"], "target_soc_pct", 10, 100, " %")
    if target < prefs.reserve_pct:
        raise ApiError(422, f"target_soc_pct ({target:g} %) is below the reserve ({prefs.reserve_pct:g} %)",
                       "target_soc_pct")
    energy_wh = None
    if body.get("energy_wh") is not None:
        energy_wh = require_number(body["energy_wh"], "energy_wh", 100, MAX_TRIP_ENERGY_WH, " Wh")
    new = replace(prefs, next_trip=EvSession(departure=departure, target_soc_pct=target, energy_wh=energy_wh))
    await apply_preferences(app, new, request[keys.WHO])
    audit(request, "set_trip", trip_json(new.next_trip))
    return web.json_response(car_json(app, new.next_trip))


def _departure(body: dict[str, Any], now: datetime, tz: Any) -> datetime:
    """The departure asked for, in the future (else 422 naming it in local time)."""
    raw, day = body["departure"], body.get("day")
    if isinstance(raw, str) and len(raw) == 5 and ":" in raw:
        hhmm = require_hhmm(raw, "departure")
        if day is None:
            departure = next_local(hhmm, now, tz)
        else:
            departure = local_departure(_day(day, now, tz), parse_hhmm(hhmm), tz)
    else:
        if day is not None:
            raise ApiError(422, "day goes with a departure 'HH:MM', not with a full date-time", "day")
        departure = require_datetime(raw, "departure")
    try:
        check_departure(departure, now, tz)
    except TripError as exc:
        raise ApiError(422, f"{exc}: pick a later time or another day", "departure") from None
    return departure


def _day(value: Any, now: datetime, tz: Any) -> date:
    today = now.astimezone(tz).date()
    if value == "today":
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ApiError(422, f"day must be 'today', 'tomorrow' or a date YYYY-MM-DD, got {value!r}", "day")


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


def battery_care_json(app: web.Application) -> dict[str, Any]:
    """The owner's battery care, and what wear the plan in force costs, in money."""
    agent, config = app[keys.AGENT], app[keys.CONFIG]
    prefs = agent.preferences
    installer = float(getattr(getattr(config, "ev", None), "degradation_per_kwh", 0.0))
    per_kwh = prefs.degradation_per_kwh if prefs.degradation_per_kwh is not None else installer
    plan = agent.plan
    cycled_kwh = float(abs(plan.ev_w).sum()) * plan.interval_s / 3600 / 1000 if plan is not None else None
    return {
        "soft_max_soc_pct": prefs.soft_max_soc_pct,
        "hours_above_soft_max": prefs.hours_above_soft_max,
        "degradation_per_kwh": per_kwh,
        "installer_degradation_per_kwh": installer,
        "currency": getattr(getattr(config, "tariff", None), "currency", "EUR"),
        "plan_cycled_kwh": None if cycled_kwh is None else round(cycled_kwh, 2),
        "plan_wear_cost": None if cycled_kwh is None else round(cycled_kwh * per_kwh, 2),
    }


@access("admin")
async def put_battery_care(request: web.Request) -> web.Response:
    """{soft_max_soc_pct: 50..100 or null (off), hours_above_soft_max: 0..24, degradation_per_kwh:
    0..1 or null (the installer's)}: any of them."""
    app = request.app
    body = await body_json(request, allowed={"soft_max_soc_pct", "hours_above_soft_max", "degradation_per_kwh"},
                           required=set())
    prefs: Preferences = app[keys.AGENT].preferences
    changes: dict[str, Any] = {}
    if "soft_max_soc_pct" in body:
        value = body["soft_max_soc_pct"]
        changes["soft_max_soc_pct"] = None if value is None else require_number(value, "soft_max_soc_pct", 50, 100, " %")
    if "hours_above_soft_max" in body:
        changes["hours_above_soft_max"] = require_number(body["hours_above_soft_max"], "hours_above_soft_max", 0, 24, " h")
    if "degradation_per_kwh" in body:
        value = body["degradation_per_kwh"]
        changes["degradation_per_kwh"] = None if value is None else require_number(
            value, "degradation_per_kwh", 0, 1, " per kWh")
    if not changes:
        raise ApiError(422, "give soft_max_soc_pct, hours_above_soft_max or degradation_per_kwh", None)
    await apply_preferences(app, replace(prefs, **changes), request[keys.WHO])
    audit(request, "set_battery_care", changes)
    return web.json_response(car_json(app))


@access("admin")
async def put_soc(request: web.Request) -> web.Response:
    """{"soc_pct": 0..100}: the owner says how full the plugged-in car is."""
    app = request.app
    body = await body_json(request, allowed={"soc_pct"}, required={"soc_pct"})
    soc = require_number(body["soc_pct"], "soc_pct", 0, 100, " %")
    try:
        known = await app[keys.AGENT].set_car_soc(soc, request[keys.WHO])
    except Refused as exc:
        raise ApiError(409 if exc.code == "no_car" else 422, exc.reason, "soc_pct") from None
    audit(request, "set_car_soc", soc_json(known))
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
    app.router.add_put("/api/v1/car/soc", put_soc)
    app.router.add_put("/api/v1/car/battery-care", put_battery_care)
