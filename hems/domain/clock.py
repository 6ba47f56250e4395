"""Injected clocks: the loop, the simulator and the planner's callers never read time directly.

Every clock has two readings:
  now()        aware UTC wall-clock time: for what a person sees, for tariffs and schedules.
  monotonic()  seconds that only ever move forward, at the clock's pace: for every interval,
               timeout, freshness and rate limit, so an NTP step or a Pi without a real-time
               clock booting with an old time neither stops nor speeds up anything.

SystemClock   real UTC time.
ScaledClock   simulated time running `speedup` times faster than real time from `start`.
ManualClock   time moves only when a test calls advance(); step() jumps the wall clock alone.
SteppedClock  another clock with a switchable wall-clock offset (chaos tests, the bench).
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...                     # aware UTC
    def monotonic(self) -> float: ...                  # clock seconds, never backwards
    async def sleep(self, duration_s: float) -> None: ...  # in clock seconds


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

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
        return self.start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return (time.monotonic() - self._t0) * self.speedup

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(max(0.0, duration_s) / self.speedup)


class ManualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(timezone.utc)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, duration_s: float) -> None:
        self._now += timedelta(seconds=duration_s)
        self._mono += max(0.0, duration_s)

    def step(self, offset_s: float) -> None:
        """Jump the wall clock by offset_s (negative: backwards) as NTP would; monotonic time
        does not move."""
        self._now += timedelta(seconds=offset_s)

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(0)


class SteppedClock:
    """`inner` with a wall-clock offset that a test switches at will (`offset_s = -3600`)."""

    def __init__(self, inner: Clock, offset_s: float = 0.0) -> None:
        self.inner = inner
        self.offset_s = offset_s

    def now(self) -> datetime:
        return self.inner.now() + timedelta(seconds=self.offset_s)

    def monotonic(self) -> float:
        return self.inner.monotonic()

    async def sleep(self, duration_s: float) -> None:
        await self.inner.sleep(duration_s)


class StepDetector:
    """Notices a wall-clock step: the gap between now() and monotonic() moved by more than
    `threshold_s` since the last look. Logs it once per step."""

    def __init__(self, clock: Clock, threshold_s: float = 30.0) -> None:
        self.clock = clock
        self.threshold_s = threshold_s
        self._offset_s: float | None = None

    def stepped(self) -> bool:
        offset_s = self.clock.now().timestamp() - self.clock.monotonic()
        previous, self._offset_s = self._offset_s, offset_s
        if previous is None or abs(offset_s - previous) <= self.threshold_s:
            return False
        logging.getLogger(__name__).warning("the wall clock stepped by %+.0f s; replanning", offset_s - previous)
        return True


def speedup_of(clock: Clock) -> float:
    """Clock seconds per real second: how many of its seconds a real-time timeout spans."""
    if isinstance(clock, ScaledClock):
        return clock.speedup
    if isinstance(clock, SteppedClock):
        return speedup_of(clock.inner)
    return 1.0
