"""Typed keys for what the web application holds (aiohttp.web.AppKey)."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from hems.control.api import AgentApi
from hems.domain.clock import Clock

AGENT: web.AppKey[AgentApi] = web.AppKey("hems_agent", AgentApi)
STORE: web.AppKey[Any] = web.AppKey("hems_store", object)
CONFIG: web.AppKey[Any] = web.AppKey("hems_config", object)
CLOCK: web.AppKey[Clock] = web.AppKey("hems_clock", Clock)
