"""The aiohttp application: JSON API under /api/v1/, live events, and the static UI.

`create_web_app(agent, store, config, clock)` is the one entry point; hems.app runs the
returned Application in the agent's event loop (aiohttp.web.AppRunner + TCPSite).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web

from hems.control.api import AgentApi
from hems.domain.clock import Clock
from hems.web import auth, car, events, history, keys, notify_routes, openapi, savings, settings, sources, system, views
from hems.web.auth import access
from hems.web.db import MemoryBackend, WebDb
from hems.web.errors import error_middleware
from hems.web.ratelimit import LoginLimiter
from hems.web.serialize import iso, jsonable, live_state
from hems.web.sitetime import site_timezone
from hems.web.sysinfo import SYSTEM_FILES

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_web_app(agent: AgentApi, store: Any, config: Any, clock: Clock,
                   restart: Callable[[], None] | None = None) -> web.Application:
    """Build the web application around a running agent.

    agent   the AgentApi of the running agent (read state and plan, change preferences)
    store   the hems store (SQLite); the web tables live in the same database file.
            None keeps users and sessions in memory (tests only: nothing survives a restart).
    config  the hems Config (site time zone, tariff currency, [web], [aggregator]) or None
    clock   the injected clock (session expiry, rate limits, audit times)
    restart stops and starts hems in place (POST /api/v1/restart), or None
    """
    app = web.Application(middlewares=[gzip_middleware, security_headers, error_middleware, auth.auth_middleware],
                          client_max_size=64 * 1024)
    app[keys.AGENT] = agent
    app[keys.STORE] = store
    app[keys.CONFIG] = config
    app[keys.CLOCK] = clock
    app[keys.DB] = web_db_for(store)
    app[keys.LIMITER] = LoginLimiter()
    app[keys.TZ] = site_timezone(config)
    app[keys.RESTART] = restart
    app[SYSTEM_FILES] = {}               # the real files unless attach_system_files gives others
    app.router.add_get("/api/v1/health", get_health)
    app.router.add_get("/api/v1/state", get_state)
    for module in (auth, car, views, savings, history, settings, notify_routes, events, openapi, sources, system):
        module.add_routes(app)
    app.router.add_get("/", index)
    app.router.add_get("/sw.js", service_worker)
    app.router.add_get("/manifest.webmanifest", manifest)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.on_shutdown.append(events.close_streams)
    return app


def web_db_for(store: Any) -> WebDb:
    """The web tables in the hems store; an in-memory stand-in when there is no store."""
    if store is None or not hasattr(store, "transaction"):
        log.warning("web UI without a store: users and sessions are kept in memory only")
        return WebDb(MemoryBackend())
    return WebDb(store)


@web.middleware
async def security_headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    """The same headers on every answer, the error pages aiohttp raises (404, 405) included."""
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc.headers)
        raise
    _secure(request, resp.headers)
    return resp


def _secure(request: web.Request, headers: Any) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg", ".webmanifest", ".csv")


@web.middleware
async def gzip_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
    """gzip text responses (pages, scripts, JSON) for clients that accept it; never the event stream."""
    resp = await handler(request)
    if "gzip" not in request.headers.get("Accept-Encoding", "") or resp.prepared:
        return resp
    path = request.path
    if path == "/api/v1/events" or resp.headers.get("Content-Type", "").startswith("text/event-stream"):
        return resp
    static_text = path == "/" or path == "/sw.js" or path.endswith(COMPRESSIBLE)
    api_text = not isinstance(resp, web.FileResponse) and resp.content_type in ("application/json", "text/csv")
    if static_text or api_text:
        resp.enable_compression(web.ContentCoding.gzip)
    return resp


@access("public")
async def service_worker(request: web.Request) -> web.FileResponse:
    """The offline shell's service worker, served at the root so its scope is the whole UI."""
    return web.FileResponse(STATIC_DIR / "sw.js", headers={"Cache-Control": "no-cache",
                                                          "Content-Type": "text/javascript"})


@access("public")
async def manifest(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "manifest.webmanifest", headers={"Content-Type": "application/manifest+json"})


@access("public")
async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def health_json(agent: AgentApi, detailed: bool = True) -> dict[str, Any]:
    """ok when fresh data came from every device; degraded otherwise (with the reasons).
    Without `detailed` (no login) it names roles only: no device names, errors or readings."""
    devices = {name: {k: v for k, v in info.items() if k != "reading"}   # no readings without login
               for name, info in jsonable(agent.device_status()).items()}
    state = agent.state
    problems: list[str] = []
    if state is None:
        problems.append("no measurement yet")
    else:
        problems.extend(f"{role}: data missing or stale" for role in state.stale)
    offline = [name for name, info in devices.items() if isinstance(info, dict) and info.get("online") is False]
    out: dict[str, Any] = {"status": "degraded" if problems or offline else "ok",
                           "at": iso(state.at) if state is not None else None}
    if not detailed:
        out["problems"] = problems + ([f"{len(offline)} device(s) offline"] if offline else [])
        return out
    for name in offline:
        error = devices[name].get("last_error")
        problems.append(f"{name}: offline" + (f" ({error})" if error else ""))
    out.update(problems=problems, devices=devices)
    return out


@access("public")
async def get_health(request: web.Request) -> web.Response:
    """Public, for monitors: the status alone. The owner's session (or the LAN view) sees
    each device with its error."""
    detailed = request[keys.SESSION] is not None or auth.lan_view_allowed(request)
    return web.json_response(health_json(request.app[keys.AGENT], detailed))


@access("read")
async def get_state(request: web.Request) -> web.Response:
    return web.json_response(live_state(request.app[keys.AGENT], request.app[keys.CLOCK].now()))
