"""Injected clocks: the loop, the simulator and the planner's callers never read time directly.

SystemClock   real UTC time.
ScaledClock   simulated time running `speedup` times faster than real time from `start`.
ManualClock   time moves only when a test calls advance(); sleep() returns at once.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...                     # aware UTC
    async def sleep(self, duration_s: float) -> None: ...  # in clock seconds


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(max(0.0, duration_s))


class ScaledClock:
    def __init__(self, start: datetime, speedup: float = 60.0) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if speedup <= 0:
            raise ValueError("speedup must be > 0")
        self.start = start.astimezone(timezone.utc)
        self.speedup = speedup
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speedup)

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(max(0.0, duration_s) / self.speedup)


class ManualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, duration_s: float) -> None:
        self._now += timedelta(seconds=duration_s)

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(0)
