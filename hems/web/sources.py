"""GET /api/v1/sources: where prices and the PV forecast come from, until when they are known,
whether they are stale, the last fetch error and the tariff formula (read access)."""
from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from hems.web.auth import access


class Feed(Protocol):
    def status(self) -> dict[str, object]: ...


FEEDS: web.AppKey[dict] = web.AppKey("hems_source_feeds", dict)     # {"feeds": [Feed, ...]}


def attach_feeds(app: web.Application, feeds: list[Feed]) -> None:
    """Show these feeds' status (callable after the app started)."""
    app[FEEDS]["feeds"] = list(feeds)


@access("read")
async def get_sources(request: web.Request) -> web.Response:
    feeds: list[Any] = request.app[FEEDS].get("feeds", [])
    return web.json_response({"sources": [f.status() for f in feeds]})


def add_routes(app: web.Application) -> None:
    app[FEEDS] = {}
    app.router.add_get("/api/v1/sources", get_sources)
