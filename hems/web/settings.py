"""Settings (admin): tariff, site limits, aggregator enrolment, the read-only LAN view, restart.

The agent's settings owner (hems.control.settings) holds and persists the site limits, the
tariff and the aggregator enrolment; this module only checks the request's shape and hands it
over through AgentApi. Site limits and tariff prices apply at once (the owner may lower the
installer's site limits, never raise them); the aggregator enrolment applies when hems starts
again, which `POST /api/v1/restart` does in place. The LAN view is the web UI's own setting.
"""
from __future__ import annotations

import logging
import re
from dataclasses import asdict
from typing import Any

from aiohttp import web

from hems.control.settings import SettingRefused
from hems.web import keys
from hems.web.auth import LAN_READ_ONLY_KEY, access, audit, lan_read_only
from hems.web.errors import ApiError
from hems.web.validate import body_json, require_bool, require_number, require_str

log = logging.getLogger(__name__)

HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
SITE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LIVE = {"site", "tariff", "web"}
WEB_KEY = "settings.web"


def _price(v: Any, f: str) -> float:
    return require_number(v, f, -1.0, 5.0, " per kWh")


def _host(v: Any, f: str) -> str:
    text = require_str(v, f, 253)
    if not HOST_RE.match(text):
        raise ApiError(422, f"{f} must be a host name or IP address, got {text!r}", f)
    return text


def _site_id(v: Any, f: str) -> str:
    text = require_str(v, f, 64)
    if not SITE_ID_RE.match(text):
        raise ApiError(422, f"{f} may use letters, digits, _ and - (1 to 64), got {text!r}", f)
    return text


# section -> field -> checker(value, field name) -> clean value (the shape; the agent judges the rest)
FIELDS: dict[str, dict[str, Any]] = {
    "tariff": {
        "import_price_per_kwh": _price,
        "export_price_per_kwh": _price,
        "import_markup_per_kwh": lambda v, f: require_number(v, f, 0.0, 1.0, " per kWh"),   # added to the spot price
    },
    "site": {
        "main_fuse_a": lambda v, f: require_number(v, f, 6, 250, " A"),
        "max_import_w": lambda v, f: require_number(v, f, 0, 200_000, " W"),
        "max_export_w": lambda v, f: require_number(v, f, 0, 200_000, " W"),
    },
    "aggregator": {
        "enabled": require_bool,
        "host": _host,
        "port": lambda v, f: int(require_number(v, f, 1, 65535)),
        "site_id": _site_id,
        "payment_per_kwh": _price,     # what the aggregator contract pays per kWh delivered (display only)
    },
    "web": {"lan_read_only": require_bool},
}


def settings_json(app: web.Application) -> dict[str, Any]:
    view = app[keys.AGENT].live_settings()
    tariff = view.tariff
    web_over = app[keys.DB].get_setting(WEB_KEY, {}) or {}
    return {
        "settings": {
            "tariff": {**{name: getattr(tariff, name, None) for name in FIELDS["tariff"]},
                       "kind": tariff.kind, "currency": tariff.currency,
                       "export": getattr(tariff, "export", None)},      # dynamic: "spot" or "fixed"
            "site": asdict(view.site),
            "aggregator": dict(view.aggregator),
            "web": {"lan_read_only": lan_read_only(app)},
        },
        "overrides": {**view.overrides, "web": web_over},
        "installer_limits": asdict(view.installer_site),     # the owner may only lower these
        "applies_at_once": sorted(LIVE),
        "applies_at_next_start": sorted(set(FIELDS) - LIVE),
        "restart_needed": view.restart_needed,
        "can_restart": app[keys.RESTART] is not None,
    }


@access("admin")
async def get_settings(request: web.Request) -> web.Response:
    return web.json_response(settings_json(request.app))


@access("admin")
async def put_settings(request: web.Request) -> web.Response:
    section = request.match_info["section"]
    if section not in FIELDS:
        raise ApiError(404, f"no settings section {section!r}; use {', '.join(FIELDS)}")
    app = request.app
    body = await body_json(request, allowed=set(FIELDS[section]))
    if not body:
        raise ApiError(422, "nothing to change: send at least one field")
    clean = {name: FIELDS[section][name](value, name) for name, value in body.items()}
    agent, who = app[keys.AGENT], request[keys.WHO]
    try:
        if section == "site":
            await agent.set_limits(clean, who)
        elif section == "tariff":
            await agent.set_tariff(clean, who)
        elif section == "aggregator":
            await agent.set_aggregator(clean, who)
    except SettingRefused as exc:
        raise ApiError(422, str(exc), exc.field) from None
    if section == "web":
        db, now = app[keys.DB], app[keys.CLOCK].now()
        db.put_setting(WEB_KEY, {**(db.get_setting(WEB_KEY, {}) or {}), **clean}, now, who)
        db.put_setting(LAN_READ_ONLY_KEY, clean["lan_read_only"], now, who)
    audit(request, f"settings.{section}", clean)
    return await get_settings(request)


@access("admin")
async def post_restart(request: web.Request) -> web.Response:
    """Stop and start hems in place, so settings that apply at the next start take effect."""
    restart = request.app[keys.RESTART]
    if restart is None:
        raise ApiError(501, "this hems cannot restart itself; restart its service instead")
    audit(request, "restart", {})
    restart()
    return web.json_response({"restarting": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/settings", get_settings)
    app.router.add_put("/api/v1/settings/{section}", put_settings)
    app.router.add_post("/api/v1/restart", post_restart)
