"""The fetch loop: one HTTP session, every feed ticked in turn; a feed that breaks is logged
and the others go on. Runs on the agent's event loop; the clock is injected."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import aiohttp

log = logging.getLogger("hems.sources")
TICK_S = 30.0


class Tickable(Protocol):
    name: str

    async def tick(self, session: aiohttp.ClientSession) -> bool: ...


async def run_feeds(feeds: list[Tickable], clock: Any, tick_s: float = TICK_S) -> None:
    headers = {"User-Agent": "hems (home energy manager)"}
    broken: set[str] = set()
    async with aiohttp.ClientSession(headers=headers) as session:
        while True:
            for feed in feeds:
                try:
                    await feed.tick(session)
                    broken.discard(feed.name)
                except asyncio.CancelledError:
                    raise
                except Exception:          # a bug in one provider module must not stop the others
                    if feed.name not in broken:        # logged once, not every tick
                        log.exception("%s: fetch failed unexpectedly", feed.name)
                    broken.add(feed.name)
            await clock.sleep(tick_s)
