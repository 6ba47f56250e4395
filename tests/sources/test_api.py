"""GET /api/v1/sources over real HTTP: source, known until, stale, last error, formula."""
from __future__ import annotations

from datetime import datetime, time, timezone

import aiohttp
from aiohttp import web

from hems.domain.clock import ManualClock
from hems.web.sources import add_routes, attach_feeds
from tests.sources import fakes
from tests.sources.fakes import Reply
from tests.sources.test_feed import DAY, feed_for


async def test_sources_endpoint_shows_staleness_and_the_last_error(tmp_path):
    provider = await fakes.Provider().start()
    provider.reply = Reply(status=401, body=fakes.UNAUTHORIZED_HTML, content_type="text/html")
    clock = ManualClock(datetime.combine(DAY, time(9, 0), fakes.AMS).astimezone(timezone.utc))
    feed = feed_for(provider, clock, tmp_path, vat_factor=1.21)
    app = web.Application()
    add_routes(app)
    attach_feeds(app, [feed])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            await feed.tick(session)
            async with session.get(f"http://127.0.0.1:{port}/api/v1/sources") as resp:
                doc = await resp.json()
        (s,) = doc["sources"]
        assert s["source"] == "entsoe" and s["stale"] is True and s["known_until"] is None
        assert s["last_error_kind"] == "auth" and "token" in s["last_error"]
        assert s["formula"] == "import = spot x 1.21 VAT; export = spot (EUR/kWh)"
    finally:
        await runner.cleanup()
        await provider.stop()
