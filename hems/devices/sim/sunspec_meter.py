"""A simulated SunSpec meter: models 1 and 201/202/203/204 at the grid connection.

Sign: W + = import from the grid (SunSpec meters count from the grid's side), as in hems.
Set the physical values with `set_power(phase_power_w)`; currents follow from power / voltage,
and the import/export counters integrate the power over the clock's time.
"""
from __future__ import annotations

from datetime import datetime

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.phase_meter import MeterFront, PhaseMeter
from hems.devices.sim.sunspec import ModelSpec, build_image, common_model
from hems.domain.clock import Clock

_PHASES = {201: 1, 202: 2, 203: 3, 204: 3}


class SunSpecMeter(MeterFront, RegisterDevice):
    def __init__(self, *, unit_id: int = 1, clock: Clock | None = None, base: int = 40000,
                 meter_model: int = 203, voltage_v: float = 230.0, serial: str = "MT0001",
                 w_sf: int = 0) -> None:
        super().__init__(unit_id, clock)
        if meter_model not in _PHASES:
            raise ValueError(f"meter model {meter_model} is not one of 201-204")
        self.meter_model = meter_model
        self.physics = PhaseMeter(_PHASES[meter_model], voltage_v)
        views = build_image(self.holding, [
            common_model("hems", "SimMeter", serial),
            ModelSpec(meter_model, scale_factors={
                "A_SF": -2, "V_SF": -1, "Hz_SF": -2, "W_SF": w_sf, "VA_SF": w_sf, "PF_SF": -2,
                "TotWh_SF": 0}),
        ], base)
        views[1].set_raw("DA", unit_id)
        self.common, self.meter = views[1], views[meter_model]
        self.refresh(self.clock.now())

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        p, m = self.physics, self.meter
        currents = p.phase_current_a
        m.set("A", sum(currents))
        m.set("PhV", p.voltage_v)
        m.set("Hz", p.frequency_hz)
        m.set("W", p.power_w)
        m.set("VA", sum(abs(w) for w in p.phase_power_w))
        m.set("PF", 1.0)
        m.set("TotWhImp", p.total_import_wh)
        m.set("TotWhExp", p.total_export_wh)
        m.set_raw("Evt", 0)
        if p.phases > 1:
            m.set("PPV", p.voltage_v * 3 ** 0.5)
        for i, ph in enumerate("ABC"):
            on = i < p.phases
            m.set(f"Aph{ph}", currents[i] if on else None)
            m.set(f"PhVph{ph}", p.voltage_v if on else None)
            m.set(f"Wph{ph}", p.phase_power_w[i] if on else None)
            m.set(f"TotWhImpPh{ph}", p.import_wh[i] if on else None)
            m.set(f"TotWhExpPh{ph}", p.export_wh[i] if on else None)
