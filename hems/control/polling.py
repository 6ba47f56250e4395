"""Poll every device on its own schedule, in its own task: a slow or dead device never holds up
the others (the meter and the charger stay fresh while the PV inverter times out).

`PollScheduler.poll_due()` starts a poll for each device that is due and not still polling,
then waits at most `wait_s` (real seconds) for them; a poll that takes longer carries on in
the background and its reading counts from the tick after it lands. Due times are monotonic
clock seconds: a wall-clock step (NTP, a Pi without RTC booting with an old time) neither stops
polling nor makes it race.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol, Sequence

from hems.domain.clock import Clock

log = logging.getLogger(__name__)


class Pollable(Protocol):
    async def poll_once(self) -> object: ...


@dataclass(frozen=True)
class PollSlot:
    name: str
    poller: Pollable
    poll_interval_s: float
    wait_s: float               # how long a tick waits for this device's poll (real seconds)


class PollScheduler:
    def __init__(self, slots: Sequence[PollSlot], clock: Clock) -> None:
        self.slots = list(slots)
        self.clock = clock
        self._due_s: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    def polling(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def poll_due(self) -> list[str]:
        """Start the due polls and wait (bounded) for them. Returns the names started."""
        now_s = self.clock.monotonic()
        started: list[asyncio.Task] = []
        names = []
        for slot in self.slots:
            if self.polling(slot.name):
                continue                          # still at it: no pile-up of polls
            due_s = self._due_s.get(slot.name)
            if due_s is not None and now_s < due_s:
                continue
            self._due_s[slot.name] = now_s + slot.poll_interval_s
            task = asyncio.get_running_loop().create_task(slot.poller.poll_once(), name=f"poll-{slot.name}")
            task.add_done_callback(_retrieve)
            self._tasks[slot.name] = task
            started.append(task)
            names.append(slot.name)
        if started:
            wait_s = max(s.wait_s for s in self.slots if s.name in names)
            await asyncio.wait(started, timeout=wait_s)
        return names

    async def close(self) -> None:
        """Cancel polls in flight (before the devices are closed)."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


def _retrieve(task: asyncio.Task) -> None:
    """A poll reports its own failures; anything else escaping it is logged here, not lost."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("%s ended with %s: %s", task.get_name(), exc.__class__.__name__, exc)
