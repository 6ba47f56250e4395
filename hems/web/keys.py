"""Typed keys for what the web application and each request hold (aiohttp AppKey, RequestKey)."""
from __future__ import annotations

from datetime import tzinfo
from typing import Any, Callable

from aiohttp import web

from hems.control.api import AgentApi
from hems.domain.clock import Clock
from hems.web.db import WebDb
from hems.web.ratelimit import LoginLimiter

# per application
AGENT: web.AppKey[AgentApi] = web.AppKey("hems_agent", AgentApi)
STORE: web.AppKey[Any] = web.AppKey("hems_store", object)
CONFIG: web.AppKey[Any] = web.AppKey("hems_config", object)
CLOCK: web.AppKey[Clock] = web.AppKey("hems_clock", Clock)
DB: web.AppKey[WebDb] = web.AppKey("hems_web_db", WebDb)
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("hems_login_limiter", LoginLimiter)
TZ: web.AppKey[tzinfo] = web.AppKey("hems_site_tz", tzinfo)
RESTART: web.AppKey[Callable[[], None] | None] = web.AppKey("hems_restart", object)   # or None

# per request
SESSION: web.RequestKey[Any] = web.RequestKey("hems_session", object)       # hems.web.db.Session | None
WHO: web.RequestKey[str] = web.RequestKey("hems_who", str)
NEW_COOKIE: web.RequestKey[str] = web.RequestKey("hems_new_cookie", str)
