"""Notifications in the web app: the owner's settings (GET/PUT /api/v1/notify), a test message
(POST /api/v1/notify/test), and the watcher that turns what the agent reports into notifications.

The watcher listens to the agent's events (AgentApi.subscribe): on `state` it checks a snapshot
(at most every CHECK_EVERY_S), on an accepted aggregator commitment it notifies at once.
"""
from __future__ import annotations

import asyncio
import logging
import time as monotonic
from datetime import datetime
from typing import Any

from aiohttp import web

from hems.notify import Kind, Notifier, NotifySettingsError, Snapshot, Watcher, parse
from hems.notify.settings import keep_secrets, parse_or_default, public
from hems.notify.texts import device_name
from hems.web import keys
from hems.web.auth import access, audit
from hems.web.errors import ApiError
from hems.web.validate import body_json

log = logging.getLogger(__name__)

SETTING = "settings.notify"
CHECK_EVERY_S = 10.0
NOTIFIER: web.AppKey[Notifier] = web.AppKey("hems_notifier", Notifier)
WATCHER: web.AppKey[Watcher] = web.AppKey("hems_notify_watcher", Watcher)
TASKS: web.AppKey[set] = web.AppKey("hems_notify_tasks", set)


def snapshot(agent: Any, now: datetime, tz: Any) -> Snapshot:
    """What the rules need, read through the AgentApi."""
    state, plan = agent.state, agent.plan
    charger = state.charger if state is not None else None
    offline = tuple((name, str(info.get("role", ""))) for name, info in agent.device_status().items()
                    if isinstance(info, dict) and info.get("online") is False)
    trip = agent.next_trip(now)
    price = None
    if plan is not None:
        k = int((now - plan.start).total_seconds() // plan.interval_s)
        series = plan.breakdown.get("import_price_per_kwh") if isinstance(plan.breakdown, dict) else None
        if series is not None and 0 <= k < len(series):
            price = float(series[k])
    return Snapshot(at=now, local_now=now.astimezone(tz), plugged=charger.plugged if charger is not None else None,
                    offline=offline, shortfall_pct=plan.target_shortfall_pct if plan is not None and trip else None,
                    target_pct=trip.target_soc_pct if trip else None,
                    departure_local=trip.departure.astimezone(tz) if trip else None, import_price_per_kwh=price)


def _spawn(app: web.Application, coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)


async def _check(app: web.Application) -> None:
    notifier, now, tz = app[NOTIFIER], app[keys.CLOCK].now(), app[keys.TZ]
    try:
        alerts = app[WATCHER].check(snapshot(app[keys.AGENT], now, tz), notifier.settings)
    except Exception:                # a rule bug never reaches the agent
        log.exception("notification rules failed")
        return
    lang = notifier.settings.language
    for a in alerts:
        values = dict(a.values)
        if a.kind is Kind.DEVICE_OFFLINE:
            values = {"device": device_name(lang, values.get("role", ""), values["device"])}
        await notifier.send(notifier.build(a.kind, now, a.key, **values))


def _listener(app: web.Application) -> Any:
    last = [0.0]

    def on_event(topic: str, payload: Any) -> None:
        if not app[NOTIFIER].settings.channels:
            return
        if topic == "state" and monotonic.monotonic() - last[0] >= CHECK_EVERY_S:
            last[0] = monotonic.monotonic()
            _spawn(app, _check(app))
        elif topic == "event" and isinstance(payload, dict) and payload.get("kind") == "commitment":
            _spawn(app, _commitment(app, str(payload.get("id", ""))))
    return on_event


async def _commitment(app: web.Application, cid: str) -> None:
    notifier = app[NOTIFIER]
    if Kind.AGGREGATOR_EVENT not in notifier.settings.events:
        return
    tz = app[keys.TZ]
    c = next((c for c in app[keys.AGENT].commitments if c.id == cid), None)
    start, end = ("?", "?") if c is None else (f"{c.start.astimezone(tz):%H:%M}", f"{c.end.astimezone(tz):%H:%M}")
    await notifier.send(notifier.build(Kind.AGGREGATOR_EVENT, app[keys.CLOCK].now(), cid, start=start, end=end))


async def _start(app: web.Application) -> None:
    app[NOTIFIER] = Notifier(parse_or_default(app[keys.DB].get_setting(SETTING)))
    app[WATCHER] = Watcher()
    app[TASKS] = set()
    unsubscribe = app[keys.AGENT].subscribe(_listener(app))

    async def stop(_: web.Application) -> None:
        unsubscribe()
        for task in list(app[TASKS]):
            task.cancel()
    app.on_cleanup.append(stop)


@access("admin")
async def get_notify(request: web.Request) -> web.Response:
    return web.json_response(public(request.app[keys.DB].get_setting(SETTING, {}) or {}))


@access("admin")
async def put_notify(request: web.Request) -> web.Response:
    body = await body_json(request, {"events", "plug_in_by", "price_spike_per_kwh", "language", "channels"})
    db = request.app[keys.DB]
    raw = keep_secrets(body, db.get_setting(SETTING, {}) or {})
    try:
        settings = parse(raw)
    except NotifySettingsError as exc:
        raise ApiError(422, str(exc), exc.field) from None
    db.put_setting(SETTING, raw, request.app[keys.CLOCK].now(), request[keys.WHO])
    request.app[NOTIFIER].settings = settings
    audit(request, "settings_notify", {"events": sorted(k.value for k in settings.events),
                                       "channels": [c.name for c in settings.channels]})
    return web.json_response(public(raw))


@access("admin")
async def post_test(request: web.Request) -> web.Response:
    notifier = request.app[NOTIFIER]
    n = notifier.build(Kind.TEST, request.app[keys.CLOCK].now(), "test")
    return web.json_response({"results": await notifier.send(n)})


def add_routes(app: web.Application) -> None:
    app.on_startup.append(_start)
    app.router.add_get("/api/v1/notify", get_notify)
    app.router.add_put("/api/v1/notify", put_notify)
    app.router.add_post("/api/v1/notify/test", post_test)
