"""Request checks that name what was wrong. Each raises ApiError (a 4xx) on bad input."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from hems.domain import strictjson
from hems.web.errors import ApiError


async def body_json(request: web.Request, allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    """The JSON object in the body; refuses other content types, non-objects and unknown fields."""
    ctype = request.headers.get("Content-Type", "")
    if not ctype.split(";")[0].strip().lower() == "application/json":
        raise ApiError(415, f"send the body as application/json (got {ctype or 'no Content-Type'})")
    raw = await request.read()
    if not raw:
        raise ApiError(400, "request body is empty; expected a JSON object")
    try:
        body = strictjson.loads(raw)
    except ValueError as exc:      # not JSON, not UTF-8, NaN/Infinity, too deep, lone surrogates
        raise ApiError(400, f"request body refused: {exc}") from None
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(body), "a number")
        raise ApiError(422, f"request body must be a JSON object, not {kind}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}", unknown[0])
    missing = sorted(required - set(body))
    if missing:
        raise ApiError(422, f"missing field {missing[0]!r}", missing[0])
    return body


def require_str(value: Any, field: str, max_len: int = 200) -> str:
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be a string", field)
    if len(value) > max_len:
        raise ApiError(422, f"{field} must have at most {max_len} characters", field)
    return value


def require_number(value: Any, field: str, lo: float, hi: float, unit: str = "") -> float:
    """A finite number within [lo, hi]; booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(422, f"{field} must be a number", field)
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ApiError(422, f"{field} must be between {lo:g} and {hi:g}{unit}, got {value:g}", field)
    return value


def require_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ApiError(422, f"{field} must be true or false", field)
    return value


def require_choice(value: Any, field: str, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ApiError(422, f"{field} must be one of {', '.join(choices)}, got {value!r}", field)
    return value


def require_datetime(value: Any, field: str) -> datetime:
    """ISO 8601 with a UTC offset (e.g. 2026-06-16T07:30:00+02:00) -> aware UTC datetime."""
    text = require_str(value, field, max_len=40)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"{field} must be an ISO 8601 date-time, got {text!r}", field) from None
    if when.tzinfo is None:
        raise ApiError(422, f"{field} needs a UTC offset (e.g. +02:00 or Z)", field)
    return when.astimezone(timezone.utc)


def require_hhmm(value: Any, field: str) -> str:
    """A local wall-clock time 'HH:MM' (24 h)."""
    text = require_str(value, field, max_len=5)
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ApiError(422, f"{field} must be a time as HH:MM, got {text!r}", field)
    if int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ApiError(422, f"{field} is not a valid time of day: {text!r}", field)
    return text
