"""Restart hems from the Settings page, for the settings that take effect at start.

GET  /api/v1/restart   {"available": true|false}: true when a service manager restarts hems after
                       it stops (systemd: hems.service has Restart=always), false for `hems demo`
                       or a manual `hems run`, where stopping would not bring it back
POST /api/v1/restart   (owner) 202, then hems stops cleanly (SIGTERM, as `systemctl restart` does)
                       and systemd starts it again; 409 when not available

The stop is injectable (`RESTARTER`): the default sends SIGTERM to this process under systemd.
"""
from __future__ import annotations

import asyncio
import os
import signal
from typing import Callable

from aiohttp import web

from hems.web.auth import access, audit
from hems.web.errors import ApiError

DELAY_S = 0.5           # let the answer reach the browser first
RESTARTER: web.AppKey = web.AppKey("hems_restarter", object)


def systemd_restarter() -> Callable[[], None] | None:
    """SIGTERM to ourselves when systemd supervises us (it sets INVOCATION_ID), else None."""
    if not os.environ.get("INVOCATION_ID"):
        return None
    return lambda: os.kill(os.getpid(), signal.SIGTERM)


@access("admin")
async def get_restart(request: web.Request) -> web.Response:
    return web.json_response({"available": request.app[RESTARTER] is not None})


@access("admin")
async def post_restart(request: web.Request) -> web.Response:
    restart = request.app[RESTARTER]
    if restart is None:
        raise ApiError(409, "hems runs without a service manager here (demo or manual start): "
                            "stop and start it yourself")
    audit(request, "restart", {})
    asyncio.get_running_loop().call_later(DELAY_S, restart)
    return web.json_response({"restarting": True}, status=202)


def add_routes(app: web.Application) -> None:
    if RESTARTER not in app:
        app[RESTARTER] = systemd_restarter()
    app.router.add_get("/api/v1/restart", get_restart)
    app.router.add_post("/api/v1/restart", post_restart)
