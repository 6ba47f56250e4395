"""Read-only API views: the plan with its forecasts and events, devices, the audit log."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from hems.web import extras, keys
from hems.web.auth import access
from hems.web.serialize import commitment_json, iso, jsonable, plan_json, trip_json
from hems.web.sitetime import tz_name

AGGREGATOR: web.AppKey[Any] = web.AppKey("hems_aggregator_link", object)


def plan_view(app: web.Application) -> dict[str, Any]:
    agent = app[keys.AGENT]
    now = app[keys.CLOCK].now()
    config = app[keys.CONFIG]
    tariff = getattr(config, "tariff", None)
    return {
        "now": iso(now),
        "timezone": tz_name(app[keys.TZ]),
        "currency": getattr(tariff, "currency", "EUR"),
        "plan": plan_json(agent.plan),
        "plan_error": extras.plan_error(agent),
        "commitments": [commitment_json(c) for c in extras.commitments(agent)],
        "next_trip": trip_json(extras.next_trip(agent, now)),
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
    link = app.get(AGGREGATOR)
    if link is not None:
        status = link.status() if callable(getattr(link, "status", None)) else {}
        out.update(jsonable(dict(status)))
    return out


@access("read")
async def get_devices(request: web.Request) -> web.Response:
    agent = request.app[keys.AGENT]
    return web.json_response({
        "now": iso(request.app[keys.CLOCK].now()),
        "devices": jsonable(agent.device_status()),
        "stale": list(agent.state.stale) if agent.state is not None else [],
        "aggregator": aggregator_status(request.app),
    })


@access("admin")
async def get_audit(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        from hems.web.errors import ApiError
        raise ApiError(400, f"limit must be a whole number from 1 to 1000, got {raw!r}", "limit")
    return web.json_response({"entries": request.app[keys.DB].audit_entries(int(raw))})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/plan", get_plan)
    app.router.add_get("/api/v1/devices", get_devices)
    app.router.add_get("/api/v1/audit", get_audit)
