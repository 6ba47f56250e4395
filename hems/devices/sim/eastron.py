"""Simulated Eastron SDM630 (three-phase) and SDM120 (single-phase) energy meters.

Measurements are input registers (function 4), float32 big-endian, two registers each, in
volts, amps, watts (+ = import), hertz and kWh: V 0x00.., A 0x06.., W 0x0C.., VA 0x12..,
var 0x18.., PF 0x1E..; SDM630 also average V 0x2A, average and sum of A 0x2E/0x30, total W
0x34, VA 0x38, PF 0x3E, line-to-line V 0xC8.., neutral A 0xE0; both frequency 0x46, import and
export kWh 0x48/0x4A, total kWh 0x156. Configuration is in holding registers (function 3), also
float32: parity/stop bits at 0x12, the Modbus node address at 0x14, the baud rate code at 0x1C
(SDM630: 0 = 2400, 1 = 4800, 2 = 9600, 3 = 19200, 4 = 38400; SDM120: 0 = 2400, 1 = 4800,
2 = 9600, 5 = 1200); the serial number is a uint32 at 0xFC00. Configuration is read-only here
(a real meter needs its keypad or a password to change it). Reserved addresses inside a block
read 0. Sources: Eastron's SDM630 and SDM120 Modbus protocol documents (hems/devices/README.md).
"""
from __future__ import annotations

import cmath
from datetime import datetime

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.phase_meter import MeterFront, PhaseMeter
from hems.devices.sim.registers import encode, int_to_regs
from hems.domain.clock import Clock

# Input register blocks each model serves (start, count); anything outside is "illegal address".
_SDM630_BLOCKS = ((0x00, 0x50), (0xC8, 0x1A), (0xE0, 0x02), (0x156, 0x04))
_SDM120_BLOCKS = ((0x00, 0x50), (0x156, 0x04))
_SDM630_BAUD_CODES = {2400: 0.0, 4800: 1.0, 9600: 2.0, 19200: 3.0, 38400: 4.0}
_SDM120_BAUD_CODES = {2400: 0.0, 4800: 1.0, 9600: 2.0, 1200: 5.0}


class EastronMeter(MeterFront, RegisterDevice):
    """Base for the SDM meters; use `SDM630` or `SDM120`."""

    PHASES = 3
    BLOCKS: tuple[tuple[int, int], ...] = _SDM630_BLOCKS
    BAUD_CODES: dict[int, float] = _SDM630_BAUD_CODES

    def __init__(self, *, unit_id: int = 1, clock: Clock | None = None, voltage_v: float = 230.0,
                 baudrate: int = 9600, serial_number: int = 19_000_123) -> None:
        if baudrate not in self.BAUD_CODES:
            raise ValueError(f"{type(self).__name__} has no {baudrate} baud setting "
                             f"(one of {sorted(self.BAUD_CODES)})")
        super().__init__(unit_id, clock, has_input=True)
        self.physics = PhaseMeter(self.PHASES, voltage_v)
        assert self.input is not None
        for start, count in self.BLOCKS:
            self.input.define(start, [0] * count)
        self.holding.define(0x12, encode("float32", 0.0))                       # 1 stop bit, no parity
        self.holding.define(0x14, encode("float32", float(unit_id)))
        self.holding.define(0x1C, encode("float32", self.BAUD_CODES[baudrate]))
        self.holding.define(0xFC00, int_to_regs(serial_number, 2))
        self.refresh(self.clock.now())

    def _put(self, address: int, value: float) -> None:
        assert self.input is not None
        self.input.set(address, encode("float32", value))

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        p = self.physics
        currents = p.phase_current_a
        for i in range(p.phases):
            self._put(0x00 + 2 * i, p.voltage_v)
            self._put(0x06 + 2 * i, currents[i])
            self._put(0x0C + 2 * i, p.phase_power_w[i])
            self._put(0x12 + 2 * i, abs(p.phase_power_w[i]))                  # VA
            self._put(0x18 + 2 * i, 0.0)                                       # var
            self._put(0x1E + 2 * i, 1.0 if p.phase_power_w[i] >= 0 else -1.0)  # power factor
        self._put(0x46, p.frequency_hz)
        self._put(0x48, p.total_import_wh / 1000)
        self._put(0x4A, p.total_export_wh / 1000)
        self._put(0x156, (p.total_import_wh + p.total_export_wh) / 1000)
        if p.phases == 3:
            self._put(0x2A, p.voltage_v)
            self._put(0x2E, sum(currents) / 3)
            self._put(0x30, sum(currents))
            self._put(0x34, p.power_w)
            self._put(0x38, sum(abs(w) for w in p.phase_power_w))
            self._put(0x3E, 1.0)
            for i in range(3):
                self._put(0xC8 + 2 * i, p.voltage_v * 3 ** 0.5)
            self._put(0xE0, _neutral_current_a(p.phase_power_w, p.voltage_v))


def _neutral_current_a(phase_power_w: tuple[float, ...], voltage_v: float) -> float:
    """Magnitude of the phasor sum of the phase currents at unity power factor."""
    rotation = (1, cmath.exp(-2j * cmath.pi / 3), cmath.exp(2j * cmath.pi / 3))
    return abs(sum(w / voltage_v * r for w, r in zip(phase_power_w, rotation)))


class SDM630(EastronMeter):
    PHASES = 3
    BLOCKS = _SDM630_BLOCKS
    BAUD_CODES = _SDM630_BAUD_CODES


class SDM120(EastronMeter):
    PHASES = 1
    BLOCKS = _SDM120_BLOCKS
    BAUD_CODES = _SDM120_BAUD_CODES
