"""Settings (admin): tariff, site limits, aggregator enrolment, the read-only LAN view.

The config file gives the starting values; the owner's changes are kept in SQLite as overrides.
Site limits and the LAN view take effect at once (the running agent's safety limits are
replaced and it replans); the tariff and the aggregator enrolment are applied by
`apply_overrides(config, db)` when hems starts, so they take effect at the next start.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from aiohttp import web

from hems.web import extras, keys
from hems.web.auth import LAN_READ_ONLY_KEY, access, audit
from hems.web.db import WebDb
from hems.web.errors import ApiError
from hems.web.validate import body_json, require_bool, require_number, require_str

log = logging.getLogger(__name__)

PREFIX = "settings."
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
SITE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LIVE = {"site", "web"}


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


# section -> field -> checker(value, field name) -> clean value
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


def overrides(db: WebDb) -> dict[str, dict[str, Any]]:
    return {section: db.get_setting(PREFIX + section, {}) or {} for section in FIELDS}


def _from_config(config: Any, section: str) -> dict[str, Any]:
    holder = getattr(config, section, None)
    if section == "web":
        return {"lan_read_only": bool(getattr(holder, "readonly_lan", False))}
    return {name: getattr(holder, name, None) for name in FIELDS[section]}


def effective(config: Any, db: WebDb) -> dict[str, dict[str, Any]]:
    over = overrides(db)
    out = {s: {**_from_config(config, s), **over[s]} for s in FIELDS}
    tariff = getattr(config, "tariff", None)
    out["tariff"]["kind"] = getattr(tariff, "kind", None)
    out["tariff"]["currency"] = getattr(tariff, "currency", "EUR")
    out["tariff"]["export"] = getattr(tariff, "export", None)          # dynamic: "spot" or "fixed"
    return out


@access("admin")
async def get_settings(request: web.Request) -> web.Response:
    db = request.app[keys.DB]
    return web.json_response({
        "settings": effective(request.app[keys.CONFIG], db),
        "overrides": overrides(db),
        "applies_at_once": sorted(LIVE),
        "applies_at_next_start": sorted(set(FIELDS) - LIVE),
    })


@access("admin")
async def put_settings(request: web.Request) -> web.Response:
    section = request.match_info["section"]
    if section not in FIELDS:
        raise ApiError(404, f"no settings section {section!r}; use {', '.join(FIELDS)}")
    app = request.app
    db: WebDb = app[keys.DB]
    body = await body_json(request, allowed=set(FIELDS[section]))
    if not body:
        raise ApiError(422, "nothing to change: send at least one field")
    clean = {name: FIELDS[section][name](value, name) for name, value in body.items()}
    merged = {**overrides(db)[section], **clean}
    if section == "aggregator" and merged.get("enabled"):
        eff = {**_from_config(app[keys.CONFIG], "aggregator"), **merged}
        for needed in ("host", "site_id"):
            if not eff.get(needed):
                raise ApiError(422, f"to enrol with an aggregator, set {needed} too", needed)
    now = app[keys.CLOCK].now()
    db.put_setting(PREFIX + section, merged, now, request[keys.WHO])
    if section == "web":
        db.put_setting(LAN_READ_ONLY_KEY, merged["lan_read_only"], now, request[keys.WHO])
    if section == "site":
        extras.set_limits(app[keys.AGENT], **clean)
    audit(request, f"settings.{section}", clean)
    return await get_settings(request)


def restore_live(app: web.Application) -> None:
    """The saved site limits go to the running agent again (they apply at once, so also at start)."""
    site = overrides(app[keys.DB])["site"]
    if site:
        extras.set_limits(app[keys.AGENT], **site)


def apply_overrides(config: Any, store: Any) -> Any:
    """The config with the owner's saved settings applied; hems.app calls it once at start,
    before it builds the agent, the planner and the aggregator link."""
    over = overrides(store if isinstance(store, WebDb) else WebDb(store))
    for section in ("tariff", "site", "aggregator"):
        holder = getattr(config, section, None)
        changes = {k: v for k, v in over[section].items() if holder is not None and hasattr(holder, k)}
        if changes and dataclasses.is_dataclass(holder):
            config = dataclasses.replace(config, **{section: dataclasses.replace(holder, **changes)})
    web_cfg = getattr(config, "web", None)
    if "lan_read_only" in over["web"] and dataclasses.is_dataclass(web_cfg) and hasattr(web_cfg, "readonly_lan"):
        config = dataclasses.replace(config, web=dataclasses.replace(web_cfg, readonly_lan=over["web"]["lan_read_only"]))
    return config


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/settings", get_settings)
    app.router.add_put("/api/v1/settings/{section}", put_settings)
