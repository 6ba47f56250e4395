"""Sends a notification on every channel the owner set up; a failing channel is logged once
until it works again, and never stops the others (or the agent)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from hems.notify.channels import Channel, ChannelError
from hems.notify.message import Kind, Notification
from hems.notify.settings import NotifySettings
from hems.notify.texts import render

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._failing: set[str] = set()

    def build(self, kind: Kind, at: datetime, key: str = "", **values: str) -> Notification:
        title, message = render(self.settings.language, kind, **values)
        return Notification(kind, title, message, at, key)

    async def send(self, n: Notification, channels: tuple[Channel, ...] | None = None) -> dict[str, str]:
        """Send on all channels at once; {channel name: "ok" or what went wrong}."""
        chans = self.settings.channels if channels is None else channels
        results = await asyncio.gather(*(self._one(c, n) for c in chans))
        return {c.name: r for c, r in zip(chans, results)}

    async def _one(self, channel: Channel, n: Notification) -> str:
        try:
            await channel.send(n)
        except ChannelError as exc:
            if channel.name not in self._failing:
                log.warning("notification by %s failed: %s", channel.name, exc)
                self._failing.add(channel.name)
            return str(exc)
        except Exception as exc:      # a channel bug must never reach the agent
            log.exception("notification by %s failed", channel.name)
            return f"internal error: {exc}"
        if channel.name in self._failing:
            log.info("notification by %s works again", channel.name)
            self._failing.discard(channel.name)
        return "ok"
