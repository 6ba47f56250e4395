"""Every API error is JSON: {"error": "<what was wrong>", "field": <name or null>}."""
from __future__ import annotations

import json
import logging
import sqlite3
from typing import Awaitable, Callable

from aiohttp import web

from hems.store.errors import describe, is_disk_full

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refused request: an HTTP status and a message naming what was wrong."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        log.warning("refused %s %s: %s (%d)", request.method, request.path, exc.message, exc.status)
        return error_response(exc.status, exc.message, exc.field)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        message = exc.reason
        if exc.text and not exc.text.startswith(f"{exc.status}:"):
            message = exc.text
        elif exc.status == 404:
            message = f"no API endpoint {request.path}; see /api/v1/openapi.json"
        elif exc.status == 405:
            message = f"{request.method} is not allowed on {request.path}; allowed: {exc.headers.get('Allow', '')}"
        elif exc.status == 413:
            message = "request body too large (at most 64 KiB)"
        log.warning("refused %s %s: %s (%d)", request.method, request.path, message, exc.status)
        resp = error_response(exc.status, message)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                resp.headers[name] = exc.headers[name]
        return resp
    except json.JSONDecodeError as exc:
        return error_response(400, f"request body is not valid JSON: {exc.msg} at position {exc.pos}")
    except Exception as exc:
        if request.path.startswith("/api/") and (isinstance(exc, sqlite3.Error) or is_disk_full(exc)):
            cause = describe(exc)      # a full disk says so, instead of "internal error"
            log.error("%s %s: could not store: %s", request.method, request.path, cause)
            return error_response(507 if is_disk_full(exc) else 503, f"could not save: {cause}")
        log.exception("internal error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return error_response(500, "internal error; see the hems log")
        raise
