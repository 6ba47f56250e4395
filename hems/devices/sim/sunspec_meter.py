"""A simulated SunSpec meter: models 1 and 201/202/203/204 at the grid connection.

Sign: W + = import from the grid (SunSpec meters count from the grid's side), as in hems.
Set the physical values with `set_power(phase_power_w)`; currents follow from power / voltage,
and the import/export counters integrate the power over the clock's time.
"""
from __future__ import annotations

from datetime import datetime

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.sunspec import ModelSpec, build_image, common_model
from hems.domain.clock import Clock

_PHASES = {201: 1, 202: 2, 203: 3, 204: 3}


class SunSpecMeter(RegisterDevice):
    def __init__(self, *, unit_id: int = 1, clock: Clock | None = None, base: int = 40000,
                 meter_model: int = 203, voltage_v: float = 230.0, serial: str = "MT0001",
                 w_sf: int = 0) -> None:
        super().__init__(unit_id, clock)
        if meter_model not in _PHASES:
            raise ValueError(f"meter model {meter_model} is not one of 201-204")
        self.meter_model = meter_model
        self.phases = _PHASES[meter_model]
        self.voltage_v = voltage_v
        self.frequency_hz = 50.0
        self.phase_power_w: tuple[float, ...] = (0.0,) * self.phases
        self.import_wh = [0.0] * self.phases
        self.export_wh = [0.0] * self.phases
        self._at: datetime | None = None
        views = build_image(self.holding, [
            common_model("hems", "SimMeter", serial),
            ModelSpec(meter_model, scale_factors={
                "A_SF": -2, "V_SF": -1, "Hz_SF": -2, "W_SF": w_sf, "VA_SF": w_sf, "PF_SF": -2,
                "TotWh_SF": 0}),
        ], base)
        views[1].set_raw("DA", unit_id)
        self.common, self.meter = views[1], views[meter_model]
        self.refresh(self.clock.now())

    @property
    def power_w(self) -> float:
        return sum(self.phase_power_w)

    def set_power(self, phase_power_w: float | tuple[float, ...] | list[float]) -> None:
        """Grid power per phase (W, + import); a single number is split evenly over the phases."""
        if isinstance(phase_power_w, (int, float)):
            phase_power_w = (float(phase_power_w) / self.phases,) * self.phases
        if len(phase_power_w) != self.phases:
            raise ValueError(f"model {self.meter_model} has {self.phases} phases, got {len(phase_power_w)}")
        self.advance(self.clock.now())
        self.phase_power_w = tuple(float(w) for w in phase_power_w)

    def advance(self, now: datetime) -> None:
        if self._at is not None and now > self._at:
            hours = (now - self._at).total_seconds() / 3600
            for i, w in enumerate(self.phase_power_w):
                if w > 0:
                    self.import_wh[i] += w * hours
                else:
                    self.export_wh[i] -= w * hours
        if self._at is None or now > self._at:
            self._at = now

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        m = self.meter
        currents = [abs(w) / self.voltage_v for w in self.phase_power_w]
        m.set("A", sum(currents))
        m.set("PhV", self.voltage_v)
        m.set("Hz", self.frequency_hz)
        m.set("W", self.power_w)
        m.set("VA", sum(abs(w) for w in self.phase_power_w))
        m.set("PF", 1.0)
        m.set("TotWhImp", sum(self.import_wh))
        m.set("TotWhExp", sum(self.export_wh))
        m.set_raw("Evt", 0)
        if self.phases > 1:
            m.set("PPV", self.voltage_v * 3 ** 0.5)
        for i, ph in enumerate("ABC"):
            on = i < self.phases
            m.set(f"Aph{ph}", currents[i] if on else None)
            m.set(f"PhVph{ph}", self.voltage_v if on else None)
            m.set(f"Wph{ph}", self.phase_power_w[i] if on else None)
            m.set(f"TotWhImpPh{ph}", self.import_wh[i] if on else None)
            m.set(f"TotWhExpPh{ph}", self.export_wh[i] if on else None)
