"""Robust polling of one device: timeouts, bounded retries, plausibility, freshness.

The control loop calls `poll_once()` at the device's interval with its injected clock. A poll
tries up to `1 + retries` times (one try while the device is offline, so a dead device does
not hold a shared bus), with a backoff between tries. `timeout_s` is the per-request timeout
(the bus enforces it on every Modbus request); a whole read, which may take several requests
(SunSpec discovery after a reconnect), is cut after `read_timeout_factor * timeout_s`. A reading
is accepted only if it is plausible; it is then stamped with the clock's time (for people) and
its monotonic time (for freshness, so a wall-clock step never makes a reading fresh or stale).
One log line when a device goes offline, one when it comes back, never one per poll.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hems.domain import ChargerReading, MeterReading, PvReading
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

Reading = MeterReading | PvReading | ChargerReading


@dataclass(frozen=True)
class Limits:
    """What a home device can physically report. Beyond these a value is a glitch."""
    max_grid_w: float = 100_000.0       # a 3 x 125 A connection is ~86 kW
    max_pv_w: float = 100_000.0
    max_ev_w: float = 60_000.0
    min_voltage_v: float = 0.0
    max_voltage_v: float = 500.0
    min_frequency_hz: float = 40.0
    max_frequency_hz: float = 70.0


def implausible(reading: Any, limits: Limits = Limits()) -> str | None:
    """Why a reading cannot be true, or None if it can. Pure."""
    for f in dataclasses.fields(reading):
        value = getattr(reading, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                return f"{f.name} is {v}"
    if isinstance(reading, MeterReading):
        if abs(reading.grid_power_w) > limits.max_grid_w:
            return f"grid power {reading.grid_power_w:.0f} W beyond +/-{limits.max_grid_w:.0f} W"
        for p in reading.phase_power_w:
            if abs(p) > limits.max_grid_w:
                return f"phase power {p:.0f} W beyond +/-{limits.max_grid_w:.0f} W"
        for v in reading.phase_voltage_v:
            if not limits.min_voltage_v <= v <= limits.max_voltage_v:
                return f"phase voltage {v:.0f} V out of range"
        hz = reading.frequency_hz
        if hz is not None and hz != 0 and not limits.min_frequency_hz <= hz <= limits.max_frequency_hz:
            return f"frequency {hz:.2f} Hz out of range"
    elif isinstance(reading, PvReading):
        if not -1000.0 <= reading.pv_power_w <= limits.max_pv_w:
            return f"PV power {reading.pv_power_w:.0f} W outside 0..{limits.max_pv_w:.0f} W"
    elif isinstance(reading, ChargerReading):
        if abs(reading.ev_power_w) > limits.max_ev_w:
            return f"EV power {reading.ev_power_w:.0f} W beyond +/-{limits.max_ev_w:.0f} W"
        if reading.soc_pct is not None and not 0.0 <= reading.soc_pct <= 100.0:
            return f"SoC {reading.soc_pct} % outside 0..100"
    return None


class DevicePoller:
    def __init__(self, device: Any, poll_interval_s: float, timeout_s: float, clock: Clock,
                 role: str | None = None, retries: int = 2, backoff_s: float = 0.2,
                 limits: Limits = Limits(), name: str | None = None,
                 read_timeout_factor: float = 4.0) -> None:
        if poll_interval_s <= 0 or timeout_s <= 0:
            raise ValueError("poll_interval_s and timeout_s must be > 0")
        self.device = device
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.read_timeout_s = timeout_s * max(1.0, read_timeout_factor)
        self.clock = clock
        self.role = role
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.limits = limits
        self.name = name or getattr(device, "name", "device")
        self.latest: Reading | None = None
        self.last_ok_at: datetime | None = None
        self.last_ok_mono: float | None = None
        self.last_error: str | None = None
        self.failures = 0           # consecutive failed polls
        self.total_failures = 0
        self.refused = 0            # implausible readings refused
        self.polls = 0
        self._online: bool | None = None   # None until the first poll

    @property
    def online(self) -> bool:
        return bool(self._online)

    def is_fresh(self, max_age_s: float) -> bool:
        """A reading accepted within max_age_s (clock seconds, monotonic)."""
        if self.latest is None or self.last_ok_mono is None:
            return False
        return self.clock.monotonic() - self.last_ok_mono <= max_age_s

    def status(self) -> dict[str, Any]:
        return {"online": self.online, "last_ok_at": self.last_ok_at,
                "last_error": self.last_error, "failures": self.failures,
                "total_failures": self.total_failures, "refused": self.refused,
                "polls": self.polls}

    async def _try_once(self) -> Reading:
        reading = await asyncio.wait_for(self.device.read(), self.read_timeout_s)
        why = implausible(reading, self.limits)
        if why is not None:
            self.refused += 1
            raise _Implausible(why)
        return reading

    async def poll_once(self) -> Reading | None:
        """One poll with bounded retries. Returns the accepted reading, or None."""
        self.polls += 1
        tries = 1 + (self.retries if self._online is not False else 0)
        error = "no attempt"
        for attempt in range(tries):
            if attempt:
                await self.clock.sleep(self.backoff_s * (2 ** (attempt - 1)))
            try:
                reading = await self._try_once()
            except asyncio.CancelledError:
                raise
            except asyncio.TimeoutError:
                error = f"no reading within {self.read_timeout_s:g} s"
                await self._reset()
            except _Implausible as exc:
                error = f"implausible reading refused: {exc}"
            except Exception as exc:  # a driver error, garbage, a lost connection
                error = str(exc) or exc.__class__.__name__
                await self._reset()
            else:
                return self._accept(reading)
        self._fail(error)
        return None

    def _accept(self, reading: Reading) -> Reading:
        now = self.clock.now()
        self.latest = dataclasses.replace(reading, at=now)
        self.last_ok_at = now
        self.last_ok_mono = self.clock.monotonic()
        if self._online is False:
            log.info("%s: back online after %d failed polls", self.name, self.failures)
        self._online, self.failures, self.last_error = True, 0, None
        return self.latest

    def _fail(self, error: str) -> None:
        self.failures += 1
        self.total_failures += 1
        self.last_error = error
        if self._online is not False:
            log.warning("%s: offline: %s", self.name, error)
        self._online = False

    async def _reset(self) -> None:
        """Make the next try reconnect (and, for SunSpec, rediscover)."""
        try:
            await self.device.close()
        except Exception as exc:  # closing a broken link must not break the poll
            log.debug("%s: close failed: %s", self.name, exc)


class _Implausible(Exception):
    pass
