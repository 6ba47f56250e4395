"""Read-only API views: the plan with its forecasts and events, devices (and the system under them),
the audit log."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from hems.control.plan_words import plan_status
from hems.web import keys
from hems.web.auth import access
from hems.web.serialize import commitment_json, iso, jsonable, plan_json, soc_json, trip_json
from hems.web.sitetime import tz_name
from hems.web.sysinfo import system_files, system_status

LINK: web.AppKey[dict] = web.AppKey("hems_aggregator_link", dict)   # {"link": AggregatorLink}


def attach_aggregator(app: web.Application, link: Any) -> None:
    """Show this aggregator link's status on the Devices page (callable after the app started)."""
    app[LINK]["link"] = link


def _link_status(link: Any) -> dict[str, Any]:
    if callable(getattr(link, "status", None)):
        return dict(link.status())
    connected = getattr(getattr(link, "mqtt", None), "connected", None)
    return {"connected": connected.is_set()} if hasattr(connected, "is_set") else {}


def dispatch_log(store: Any, limit: int = 8) -> list[dict[str, Any]]:
    """The latest dispatch answers from the aggregator link's log (store table agg_log), newest first."""
    if store is None or not callable(getattr(store, "query", None)):
        return []
    try:
        rows = store.query("SELECT at, kind, status, reason FROM agg_log ORDER BY id DESC LIMIT ?", (limit,))
    except Exception as exc:   # an older database without the table
        log.debug("no dispatch log: %s", exc)
        return []
    return [{"at": iso(datetime.fromtimestamp(at, tz=timezone.utc)), "kind": kind, "status": status, "reason": reason}
            for at, kind, status, reason in rows]


log = logging.getLogger(__name__)


def plan_view(app: web.Application) -> dict[str, Any]:
    agent = app[keys.AGENT]
    now = app[keys.CLOCK].now()
    config = app[keys.CONFIG]
    tariff = getattr(config, "tariff", None)
    state = agent.state
    plugged = bool(state is not None and state.charger is not None and state.charger.plugged)
    kind, words = plan_status(agent.preferences.mode, plugged)
    return {
        "status": {"kind": kind, "message": words},
        "capacity_wh": getattr(getattr(config, "ev", None), "capacity_wh", None),
        "plugged": plugged,
        "soc": soc_json(agent.car_soc),
        "now": iso(now),
        "timezone": tz_name(app[keys.TZ]),
        "currency": getattr(tariff, "currency", "EUR"),
        "plan": plan_json(agent.plan),
        "plan_error": agent.plan_error,
        "commitments": [commitment_json(c) for c in agent.commitments],
        "next_trip": trip_json(agent.next_trip(now)),
        "reserve_pct": agent.preferences.reserve_pct,
        "mode": agent.preferences.mode.value,
    }


@access("read")
async def get_plan(request: web.Request) -> web.Response:
    return web.json_response(plan_view(request.app))


def aggregator_status(app: web.Application) -> dict[str, Any]:
    """The aggregator link as the Devices page shows it."""
    config = app[keys.CONFIG]
    agg = getattr(config, "aggregator", None)
    out: dict[str, Any] = {
        "enabled": bool(getattr(agg, "enabled", False)),
        "host": getattr(agg, "host", None),
        "site_id": getattr(agg, "site_id", None),
        "connected": None,
        "last_error": None,
    }
    link = app[LINK].get("link")
    if link is not None:
        out.update(jsonable(_link_status(link)))
    out["log"] = dispatch_log(app[keys.STORE])
    return out


@access("read")
async def get_devices(request: web.Request) -> web.Response:
    agent = request.app[keys.AGENT]
    return web.json_response({
        "now": iso(request.app[keys.CLOCK].now()),
        "devices": jsonable(agent.device_status()),
        "stale": list(agent.state.stale) if agent.state is not None else [],
        "aggregator": aggregator_status(request.app),
        "storage": storage_status(request.app[keys.STORE]),
        "system": await asyncio.to_thread(system_status, system_files(request.app)),
    })


def storage_status(store: Any) -> dict[str, Any]:
    """Whether history is being saved; the real cause when not (a full disk, an I/O error)."""
    error = store.last_error if store is not None else None
    return {"ok": error is None, "error": error}


@access("admin")
async def get_audit(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        from hems.web.errors import ApiError
        raise ApiError(400, f"limit must be a whole number from 1 to 1000, got {raw!r}", "limit")
    return web.json_response({"entries": request.app[keys.DB].audit_entries(int(raw))})


def add_routes(app: web.Application) -> None:
    app[LINK] = {}
    app.router.add_get("/api/v1/plan", get_plan)
    app.router.add_get("/api/v1/devices", get_devices)
    app.router.add_get("/api/v1/audit", get_audit)
