"""The loop's side of the devices: one slot per device (its poller and how fresh it must be),
and the one object that writes to the charger.

Every charger write is bounded (`write_timeout_s`, real seconds): an unreachable charger never
holds the loop longer than that. A failed write is logged once, and once more when writing
works again, never once per loop.

Optional capabilities (hems.devices.ports.Heartbeat) are resolved once, when hems.app wires
the agent, against the Protocols; the loop never asks a device what it can do.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable

from hems.devices.ports import BidiCharger, Device, Heartbeat

log = logging.getLogger(__name__)


@dataclass
class DeviceSlot:
    name: str
    role: str                                       # meter | pv | charger
    poller: Any                                     # hems.devices.poller.DevicePoller (reads)
    poll_interval_s: float
    timeout_s: float = 1.0                          # per request, real seconds
    device: Device = field(kw_only=True)            # connect and close; writes: ChargerOutput

    def status(self, fresh: bool) -> dict[str, Any]:
        status = dict(self.poller.status())
        status.update(role=self.role, fresh=fresh)
        reading = self.poller.latest
        status["reading"] = _public(reading) if reading is not None else None
        return status


class ChargerOutput:
    """Writes the EV power setpoint; refreshes the charger's own communication timeout when it
    has one (resolved here, once).

    `write_timeout_s` bounds each write and each heartbeat (real seconds; hems.app gives two
    request timeouts, as a driver's write may read before it writes). None leaves the bound to
    the driver (an OCPP charger's session has its own answer timeout)."""

    def __init__(self, name: str, charger: BidiCharger, write_timeout_s: float | None = None) -> None:
        self.name = name
        self._charger = charger
        self._heartbeat: Heartbeat | None = charger if isinstance(charger, Heartbeat) else None
        self.write_timeout_s = write_timeout_s
        self._error: str | None = None          # the last write failure, until one works again

    @property
    def has_heartbeat(self) -> bool:
        return self._heartbeat is not None

    @property
    def error(self) -> str | None:
        """Why the last write failed; None once a write worked."""
        return self._error

    async def write(self, ev_power_w: float, refresh: bool) -> None:
        """The setpoint (W, + charging); with refresh, the heartbeat too (its failure is logged).
        Raises when the setpoint did not reach the charger; logged here, once per outage."""
        try:
            await self._bounded(self._charger.write_power(ev_power_w))
        except Exception as exc:
            if self._error is None:
                log.warning("writing %.0f W to %s failed: %s", ev_power_w, self.name, exc)
            self._error = str(exc) or exc.__class__.__name__
            raise
        if self._error is not None:
            log.info("writing to %s works again", self.name)
            self._error = None
        if refresh and self._heartbeat is not None:
            try:
                await self._bounded(self._heartbeat.refresh_heartbeat())
            except Exception as exc:
                log.warning("heartbeat to %s failed: %s", self.name, exc)

    async def idle(self) -> None:
        """0 W, bounded like every write; raises when it did not reach the charger."""
        await self._bounded(self._charger.write_power(0.0))

    async def _bounded(self, call: Awaitable[None]) -> None:
        if self.write_timeout_s is None:
            await call
            return
        try:
            await asyncio.wait_for(call, self.write_timeout_s)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no answer within {self.write_timeout_s:g} s") from None


def _public(reading: Any) -> dict[str, Any]:
    out = {}
    for k, v in vars(reading).items():
        out[k] = v.isoformat() if isinstance(v, datetime) else getattr(v, "value", v)
    return out
