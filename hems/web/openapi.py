"""The OpenAPI 3.1 document for /api/v1/, served at GET /api/v1/openapi.json.

Written by hand next to the handlers; a test checks that every route is documented and
every documented path exists.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from hems.web.auth import access

NUM = {"type": "number"}
NUM_OR_NULL = {"type": ["number", "null"]}
STR = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
HHMM = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
ERROR = {"type": "object", "required": ["error"],
         "properties": {"error": STR, "field": {"type": ["string", "null"]}}}
TARGET = {"type": "number", "minimum": 10, "maximum": 100}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props, "required": required or []}


def _op(summary: str, access_level: str, body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (), params: list[dict[str, Any]] | None = None,
        answer: dict[str, Any] | None = None) -> dict[str, Any]:
    ok = {"schema": answer} if answer is not None else {}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": ok}}}
    codes = set(errors)
    if access_level != "public":
        codes |= {401}
    if body is not None:
        codes |= {400, 403, 415, 422}
    for code in sorted(codes):
        responses[str(code)] = {"description": _REASONS.get(code, "refused"),
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op: dict[str, Any] = {"summary": summary, "x-access": access_level, "responses": responses}
    if access_level == "admin":
        op["security"] = [{"session": [], "csrf": []}]
    elif access_level == "read":
        op["security"] = [{"session": []}, {}]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


_REASONS = {400: "malformed request", 401: "not logged in", 403: "forbidden or missing CSRF token",
            404: "no such thing", 409: "conflicts with the current state", 413: "file too large",
            415: "body is not JSON (or not a form upload where a file is expected)",
            500: "failed on the server (the message says why)", 503: "not available on this system",
            422: "a field is invalid (the message names it)", 429: "too many failed logins"}

SETTINGS_BODY = {"oneOf": [
    {"title": "tariff", **_obj({"import_price_per_kwh": NUM, "export_price_per_kwh": NUM, "import_markup_per_kwh": NUM})},
    {"title": "site", **_obj({"main_fuse_a": NUM, "max_import_w": NUM, "max_export_w": NUM})},
    {"title": "aggregator", **_obj({"enabled": {"type": "boolean"}, "host": STR, "port": {"type": "integer"},
                                    "site_id": STR, "payment_per_kwh": NUM})},
    {"title": "web", **_obj({"lan_read_only": {"type": "boolean"}})},
]}
STR_OR_NULL = {"type": ["string", "null"]}
SECURITY_UPDATES = _obj({"enabled": {"type": "boolean"}, "last_run": {**STR_OR_NULL, "format": "date-time"},
                         "result": STR_OR_NULL}, ["enabled", "last_run", "result"])
SYSTEM = _obj({"hems_version": STR, "image_version": STR_OR_NULL, "security_updates": SECURITY_UPDATES},
              ["hems_version", "image_version", "security_updates"])
DEVICES = {"type": "object", "required": ["now", "devices", "stale", "aggregator", "storage", "system"],
           "properties": {"now": TIME, "devices": {"type": "object"}, "stale": {"type": "array", "items": STR},
                          "aggregator": {"type": "object"}, "storage": {"type": "object"}, "system": SYSTEM}}
SCHEDULE_DAY = {"type": ["object", "null"], "additionalProperties": False,
                "properties": {"departure": HHMM, "target_soc_pct": TARGET}, "required": ["departure", "target_soc_pct"]}

DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "hems local API", "version": "1",
             "description": "The homeowner's API of hems. Powers in W (grid + import, EV + charging, "
                            "PV + generation), energies in Wh, SoC in %, times ISO 8601 UTC. Changes "
                            "need the session cookie and the X-CSRF-Token header from /auth/status."},
    "components": {
        "schemas": {"Error": ERROR},
        "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "hems_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
        },
    },
    "paths": {
        "/api/v1/health": {"get": _op("Service health: ok or degraded; per device with a login", "public")},
        "/api/v1/state": {"get": _op("Live flows, SoC, plugged, current setpoint and why", "read")},
        "/api/v1/plan": {"get": _op("Plan in force with prices, forecasts, events, next trip", "read")},
        "/api/v1/sources": {"get": _op("Price and PV forecast sources: known until, stale, last error, "
                                       "tariff formula", "read")},
        "/api/v1/devices": {"get": _op("Each device's status, last reading, errors; aggregator link; the system "
                                       "(hems and image versions, last unattended security upgrade)", "read",
                                       answer=DEVICES)},
        "/api/v1/history": {"get": _op("Energy flows, cost against charge-on-arrival, earnings", "read", errors=(400,),
                                       params=[{"name": "period", "in": "query", "schema": {"enum": ["day", "month"]}},
                                               {"name": "date", "in": "query", "schema": {"type": "string"}}])},
        "/api/v1/events": {"get": _op("Server-Sent Events: state, plan, setpoint, preferences, notice", "read")},
        "/api/v1/car": {"get": _op("Preferences, next trip, weekly schedule", "read")},
        "/api/v1/car/trip": {
            "put": _op("Set the next trip (departure as date-time or HH:MM local)", "admin",
                       _obj({"departure": {"anyOf": [TIME, HHMM]}, "target_soc_pct": TARGET},
                            ["departure", "target_soc_pct"])),
            "delete": _op("Clear the one-off trip (the weekly schedule applies)", "admin", errors=(403,)),
        },
        "/api/v1/car/mode": {"put": _op("Set the mode", "admin",
                                        _obj({"mode": {"enum": ["smart", "solar_only", "fast", "off"]}}, ["mode"]))},
        "/api/v1/car/reserve": {"put": _op("Set the reserve kept for V2H/V2G", "admin",
                                           _obj({"reserve_pct": {"type": "number", "minimum": 0, "maximum": 80}}, ["reserve_pct"]))},
        "/api/v1/car/charge-now": {"post": _op("One tap: charge at full power now, or stop", "admin",
                                               _obj({"on": {"type": "boolean"}}, ["on"]))},
        "/api/v1/car/schedule": {"put": _op("Set the weekly departure schedule", "admin", _obj(
            {"days": _obj({d: SCHEDULE_DAY for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})},
            ["days"]))},
        "/api/v1/car/soc": {"put": _op("Say how full the plugged-in car is (entered; estimated onwards, the "
                                       "charger's reading replaces it)", "admin",
                                       _obj({"soc_pct": {"type": "number", "minimum": 0, "maximum": 100}}, ["soc_pct"]),
                                       errors=(409,))},
        "/api/v1/car/battery-care": {"put": _op(
            "Battery care: a soft maximum level, the hours above it allowed before a departure, the wear cost per kWh",
            "admin", _obj({"soft_max_soc_pct": {"type": ["number", "null"], "minimum": 50, "maximum": 100},
                           "hours_above_soft_max": {"type": "number", "minimum": 0, "maximum": 24},
                           "degradation_per_kwh": {"type": ["number", "null"], "minimum": 0, "maximum": 1}}, []))},
        "/api/v1/settings": {"get": _op("Tariff, site limits, aggregator enrolment, LAN view", "admin")},
        "/api/v1/settings/{section}": {"put": _op(
            "Change one settings section (tariff, site, aggregator, web); site limits at most the installer's", "admin", SETTINGS_BODY, errors=(404,),
            params=[{"name": "section", "in": "path", "required": True,
                     "schema": {"enum": ["tariff", "site", "aggregator", "web"]}}])},
        "/api/v1/restart": {"post": _op("Stop and start hems in place (settings that apply at the next start)",
                                        "admin", errors=(501,))},
        "/api/v1/audit": {"get": _op("Who changed what and when", "admin", errors=(400,),
                                     params=[{"name": "limit", "in": "query", "schema": {"type": "integer"}}])},
        "/api/v1/auth/status": {"get": _op("Setup needed? logged in? CSRF token", "public")},
        "/api/v1/auth/setup": {"post": _op("First run: set the admin password", "public",
                                           _obj({"username": STR, "password": STR}, ["password"]), errors=(409,))},
        "/api/v1/auth/login": {"post": _op("Log in (rate-limited)", "public",
                                           _obj({"username": STR, "password": STR}, ["password"]), errors=(401, 429))},
        "/api/v1/auth/logout": {"post": _op("Log out", "public")},
        "/api/v1/auth/password": {"post": _op("Change the password", "admin",
                                              _obj({"current_password": STR, "new_password": STR},
                                                   ["current_password", "new_password"]))},
        "/api/v1/openapi.json": {"get": _op("This document", "public")},
        "/api/v1/history/today": {"get": _op("Today's energy and cost totals (no curves)", "read")},
        "/api/v1/savings": {"get": _op("Solar share, self-sufficiency, saved against charging on arrival, "
                                       "earned from the aggregator, charging sessions", "read", errors=(400,),
                                       params=[{"name": "period", "in": "query", "schema": {"enum": ["day", "month", "year"]}},
                                               {"name": "date", "in": "query", "schema": {"type": "string"}}])},
        "/api/v1/sessions.csv": {"get": _op("Charging sessions in [from, to) as CSV", "read", errors=(400,),
                                            params=[{"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
                                                    {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}}])},
        "/api/v1/notify": {
            "get": _op("Notification settings (secrets are never returned)", "admin"),
            "put": _op("Set which events notify the owner, and how (ntfy, email, mqtt, webhook)", "admin", _obj({
                "events": {"type": "object", "additionalProperties": {"type": "boolean"}}, "plug_in_by": HHMM,
                "price_spike_per_kwh": NUM_OR_NULL, "language": {"enum": ["en", "de", "nl", "fr"]},
                "channels": {"type": "object"}})),
        },
        "/api/v1/notify/test": {"post": _op("Send a test notification on every channel; the result per channel", "admin")},
        "/api/v1/system/backup": {"post": _op("Download a backup file; its secrets sealed with the passphrase",
                                              "admin", _obj({"passphrase": STR}, ["passphrase"]), errors=(500, 503))},
        "/api/v1/system/restore": {"post": _op("Restore a backup (multipart: file, passphrase); hems restarts",
                                               "admin", errors=(400, 403, 413, 415, 422, 503))},
        "/api/v1/system/update": {
            "post": _op("Upload a signed update bundle (multipart: file); checked, then installed",
                        "admin", errors=(403, 409, 413, 415, 422, 503)),
            "get": _op("Update state, running version, last unattended security upgrade", "admin"),
        },
        "/api/v1/system/reboot": {"post": _op("Restart into the installed update", "admin", errors=(403, 409))},
    },
}


@access("public")
async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(DOC)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/openapi.json", get_openapi)
