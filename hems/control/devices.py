"""The loop's side of the devices: one slot per device (its poller and how fresh it must be),
and the one object that writes to the charger.

Optional capabilities (hems.devices.ports.Heartbeat) are resolved once, when hems.app wires
the agent, against the Protocols; the loop never asks a device what it can do.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hems.devices.ports import BidiCharger, Device, Heartbeat

log = logging.getLogger(__name__)


@dataclass
class DeviceSlot:
    name: str
    role: str                                       # meter | pv | charger
    poller: Any                                     # hems.devices.poller.DevicePoller (reads)
    poll_interval_s: float
    timeout_s: float = 1.0
    next_poll_at: datetime | None = None
    device: Device = field(kw_only=True)            # connect and close; writes: ChargerOutput

    def status(self, fresh: bool) -> dict[str, Any]:
        status = dict(self.poller.status())
        status.update(role=self.role, fresh=fresh)
        reading = self.poller.latest
        status["reading"] = _public(reading) if reading is not None else None
        return status


class ChargerOutput:
    """Writes the EV power setpoint; refreshes the charger's own communication timeout when it
    has one (resolved here, once)."""

    def __init__(self, name: str, charger: BidiCharger) -> None:
        self.name = name
        self._charger = charger
        self._heartbeat: Heartbeat | None = charger if isinstance(charger, Heartbeat) else None

    @property
    def has_heartbeat(self) -> bool:
        return self._heartbeat is not None

    async def write(self, ev_power_w: float, refresh: bool) -> None:
        """The setpoint (W, + charging); with refresh, the heartbeat too (its failure is logged)."""
        await self._charger.write_power(ev_power_w)
        if refresh and self._heartbeat is not None:
            try:
                await self._heartbeat.refresh_heartbeat()
            except Exception as exc:
                log.warning("heartbeat to %s failed: %s", self.name, exc)

    async def idle(self) -> None:
        await self._charger.write_power(0.0)


def _public(reading: Any) -> dict[str, Any]:
    out = {}
    for k, v in vars(reading).items():
        out[k] = v.isoformat() if isinstance(v, datetime) else getattr(v, "value", v)
    return out
