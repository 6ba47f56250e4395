"""PV inverter driver: any PV profile -> PvReading (+ = generation); curtailment if the profile has it."""
from __future__ import annotations

import logging

from hems.devices.drivers.base import ProfileDriver, require
from hems.devices.ports import DeviceError
from hems.domain import PvReading

log = logging.getLogger(__name__)


class PvDriver(ProfileDriver):
    _limited = False          # what hems last asked, when the device cannot tell

    async def read(self) -> PvReading:
        v = await self.values()
        if "limit_enabled" in self.profile.points:
            limited = v.get("limit_enabled") == 1
        else:
            limited = self._limited
        return PvReading(
            at=self.clock.now(),
            pv_power_w=max(0.0, require(v, "pv_power_w", str(self.link))),
            energy_wh=v.get("energy_wh"),
            rated_power_w=v.get("rated_power_w"),
            limit_pct=v.get("limit_pct") if limited else None,
        )


class CurtailablePvDriver(PvDriver):
    """A PV inverter whose profile has a `limit_pct` control (SunSpec 123 WMaxLimPct)."""

    async def write_limit_pct(self, limit_pct: float | None) -> None:
        await self.ensure_connected()
        engine, writes = self.engine, self.profile.writes
        if limit_pct is None:
            for w in writes.get("limit_off", ()):
                await engine.write(w.point, w.value)
            self._limited = False
            return
        if not 0.0 <= limit_pct <= 100.0:
            raise DeviceError(f"{self.name}: limit {limit_pct} % is not within 0..100")
        await engine.write(self.profile.controls["limit_pct"], limit_pct)
        for w in writes.get("limit_on", ()):
            await engine.write(w.point, w.value)
        self._limited = True
