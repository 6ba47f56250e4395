"""The aiohttp application: JSON API under /api/v1/, live events, and the static UI.

`create_web_app(agent, store, config, clock)` is the one entry point; hems.app runs the
returned Application in the agent's event loop (aiohttp.web.AppRunner + TCPSite).
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from hems.control.api import AgentApi
from hems.domain.clock import Clock
from hems.web import keys
from hems.web.errors import error_middleware
from hems.web.serialize import jsonable, state_json

log = logging.getLogger(__name__)


def create_web_app(agent: AgentApi, store: Any, config: Any, clock: Clock) -> web.Application:
    """Build the web application around a running agent.

    agent   the AgentApi of the running agent (read state and plan, change preferences)
    store   the hems store (SQLite) or None for a memory-only UI
    config  the hems config; its `web` section (if any) tunes the server
    clock   the injected clock (session expiry, rate limits, audit times)
    """
    app = web.Application(middlewares=[error_middleware], client_max_size=64 * 1024)
    app[keys.AGENT] = agent
    app[keys.STORE] = store
    app[keys.CONFIG] = config
    app[keys.CLOCK] = clock
    app.router.add_get("/api/v1/health", get_health)
    app.router.add_get("/api/v1/state", get_state)
    return app


def health_json(agent: AgentApi) -> dict[str, Any]:
    """ok when fresh data came from every device; degraded otherwise (with the reasons)."""
    devices = jsonable(agent.device_status())
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
        "at": state_json(state, None, agent.preferences)["at"],
        "devices": devices,
    }


async def get_health(request: web.Request) -> web.Response:
    return web.json_response(health_json(request.app[keys.AGENT]))


async def get_state(request: web.Request) -> web.Response:
    agent = request.app[keys.AGENT]
    return web.json_response(state_json(agent.state, agent.last_setpoint, agent.preferences))
