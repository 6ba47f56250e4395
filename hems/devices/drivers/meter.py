"""Meter driver: any meter profile -> MeterReading (grid + = import)."""
from __future__ import annotations

from hems.devices.drivers.base import ProfileDriver, require
from hems.domain import MeterReading


def _phases(values: dict, prefix: str) -> tuple[float, ...]:
    out = []
    for i in (1, 2, 3):
        v = values.get(f"{prefix}_l{i}")
        if v is None:
            break
        out.append(float(v))
    return tuple(out)


class MeterDriver(ProfileDriver):
    async def read(self) -> MeterReading:
        v = await self.values()
        return MeterReading(
            at=self.clock.now(),
            grid_power_w=require(v, "grid_power_w", str(self.link)),
            phase_power_w=_phases(v, "phase_power_w"),
            phase_current_a=tuple(abs(a) for a in _phases(v, "phase_current_a")),
            phase_voltage_v=_phases(v, "phase_voltage_v"),
            frequency_hz=v.get("frequency_hz"),
            import_wh=v.get("import_wh"),
            export_wh=v.get("export_wh"),
        )
