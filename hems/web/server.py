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
from hems.web import auth, car, events, extras, history, keys, openapi, settings, system, views
from hems.web.auth import access
from hems.web.db import MemoryBackend, WebDb
from hems.web.errors import error_middleware
from hems.web.ratelimit import LoginLimiter
from hems.web.serialize import iso, jsonable
from hems.web.sitetime import site_timezone

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_web_app(agent: AgentApi, store: Any, config: Any, clock: Clock) -> web.Application:
    """Build the web application around a running agent.

    agent   the AgentApi of the running agent (read state and plan, change preferences)
    store   the hems store (SQLite); the web tables live in the same database file.
            None keeps users and sessions in memory (tests only: nothing survives a restart).
    config  the hems Config (site time zone, tariff currency, [web], [aggregator]) or None
    clock   the injected clock (session expiry, rate limits, audit times)
    """
    app = web.Application(middlewares=[security_headers, error_middleware, auth.auth_middleware],
                          client_max_size=64 * 1024)
    app[keys.AGENT] = agent
    app[keys.STORE] = store
    app[keys.CONFIG] = config
    app[keys.CLOCK] = clock
    app[keys.DB] = web_db_for(store)
    app[keys.LIMITER] = LoginLimiter()
    app[keys.TZ] = site_timezone(config)
    app.router.add_get("/api/v1/health", get_health)
    app.router.add_get("/api/v1/state", get_state)
    for module in (auth, car, views, history, settings, events, openapi, system):
        module.add_routes(app)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(events.close_streams)
    return app


def web_db_for(store: Any) -> WebDb:
    """The web tables in the hems store; an in-memory stand-in when there is no store."""
    if store is None or not hasattr(store, "transaction"):
        log.warning("web UI without a store: users and sessions are kept in memory only")
        return WebDb(MemoryBackend())
    return WebDb(store)


async def _on_startup(app: web.Application) -> None:
    """After a restart the running agent gets the owner's saved schedule and site limits back."""
    car.restore_schedule(app)
    settings.restore_live(app)


@web.middleware
async def security_headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    resp = await handler(request)
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@access("public")
async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def health_json(agent: AgentApi) -> dict[str, Any]:
    """ok when fresh data came from every device; degraded otherwise (with the reasons)."""
    devices = {name: {k: v for k, v in info.items() if k != "reading"}   # no readings without login
               for name, info in jsonable(agent.device_status()).items()}
    state = agent.state
    problems: list[str] = []
    if state is None:
        problems.append("no measurement yet")
    else:
        problems.extend(f"{role}: data missing or stale" for role in state.stale)
    for name, info in devices.items():
        if isinstance(info, dict) and info.get("online") is False:
            problems.append(f"{name}: offline" + (f" ({info['last_error']})" if info.get("last_error") else ""))
    return {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "at": iso(state.at) if state is not None else None,
        "devices": devices,
    }


@access("public")
async def get_health(request: web.Request) -> web.Response:
    return web.json_response(health_json(request.app[keys.AGENT]))


@access("read")
async def get_state(request: web.Request) -> web.Response:
    return web.json_response(extras.live_state(request.app[keys.AGENT], request.app[keys.CLOCK].now()))
