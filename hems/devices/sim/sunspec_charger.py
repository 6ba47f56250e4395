"""A simulated bidirectional charger speaking SunSpec DER: models 1, 701, 702, 704, 713.

Control (704): WSetEna = 1 and WSetMod = 1 (watts): WSet in W, negative = charging the car
(the DER's view: + = injection into the grid). WSetMod = 0: WSetPct % of WMax, same sign.
WSetEna = 0: the charger idles at 0 W. WSetRvrtTms > 0: without a write to the WSet controls
within that many seconds the charger reverts (WSetEna := WSetEnaRvrt, WSet := WSetRvrt; with the
defaults that is 0 W). Measurements (701): W + = discharging the car, - = charging.
No car: St = OFF, InvSt = OFF and the 713 battery points read "not implemented".
"""
from __future__ import annotations

import logging
from datetime import datetime

from pymodbus.constants import ExcCodes

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.plant import ChargePoint
from hems.devices.sim.sunspec import ModelSpec, build_image, common_model
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

INV_OFF, INV_RUNNING, INV_FAULT, INV_STANDBY = 0, 3, 6, 7
_CONTROLS = frozenset({"WSetEna", "WSetMod", "WSet", "WSetRvrt", "WSetPct", "WSetEnaRvrt", "WSetRvrtTms"})


class SunSpecCharger(RegisterDevice):
    def __init__(self, *, plant: ChargePoint | None = None, unit_id: int = 1,
                 clock: Clock | None = None, base: int = 40000, revert_s: int = 0,
                 serial: str = "EV0001") -> None:
        super().__init__(unit_id, clock)
        self.plant = plant or ChargePoint()
        self.reverts = 0                     # how often the revert timeout fired
        self._ctl_written_at: datetime | None = None
        spec, car = self.plant.spec, self.plant.car
        max_w = spec.max_power_w
        views = build_image(self.holding, [
            common_model("hems", "SimBidiCharger", serial),
            ModelSpec(701, scale_factors={
                "A_SF": -2, "V_SF": -1, "Hz_SF": -2, "W_SF": 0, "TotWh_SF": 0, "Tmp_SF": -1},
                values={"ACType": 0 if spec.phases == 1 else 2, "ConnSt": 1}),
            ModelSpec(702, scale_factors={"W_SF": 0, "V_SF": -1, "A_SF": 0},
                      values={"WMaxRtg": max_w, "WChaRteMaxRtg": min(max_w, car.max_charge_w),
                              "WDisChaRteMaxRtg": min(max_w, car.max_discharge_w),
                              "WMax": max_w, "WChaRteMax": min(max_w, car.max_charge_w),
                              "WDisChaRteMax": min(max_w, car.max_discharge_w),
                              "VNomRtg": spec.voltage_v, "AMaxRtg": spec.max_current_a,
                              "VNom": spec.voltage_v, "AMax": spec.max_current_a}),
            ModelSpec(704, scale_factors={"WSet_SF": 0, "WSetPct_SF": 0},
                      values={"WSetEna": 0, "WSetMod": 1, "WSet": 0, "WSetRvrt": 0, "WSetPct": 0,
                              "WSetEnaRvrt": 0, "WSetRvrtTms": revert_s, "WSetRvrtRem": 0},
                      writable=_CONTROLS),
            ModelSpec(713, scale_factors={"WH_SF": 1, "Pct_SF": -1}),
        ], base)
        views[1].set_raw("DA", unit_id)
        self.common, self.measure, self.capacity, self.control, self.storage = (
            views[1], views[701], views[702], views[704], views[713])
        self.refresh(self.clock.now())

    # --- what the client asked, in hems signs ----------------------------------------
    @property
    def setpoint_w(self) -> float:
        """The setpoint in force, hems sign (+ = charging the car); 0 when WSetEna = 0."""
        c = self.control
        if c.get_raw("WSetEna") != 1:
            return 0.0
        if c.get_raw("WSetMod") == 0:
            pct = c.get("WSetPct") or 0.0
            return -float(pct) / 100 * float(self.capacity.get("WMax") or 0.0)
        return -float(c.get("WSet") or 0.0)

    # --- device behaviour ------------------------------------------------------------
    def check_write(self, address: int, values: list[int]) -> ExcCodes | None:
        for i, raw in enumerate(values):
            p = self.control.point_at(address + i)
            if p is not None and p.name in ("WSetEna", "WSetMod", "WSetEnaRvrt") and raw not in (0, 1):
                return ExcCodes.ILLEGAL_VALUE
        return None

    def after_write(self, address: int, count: int, now: datetime) -> None:
        self._ctl_written_at = now
        self.plant.command(self.setpoint_w)

    def _check_revert(self, now: datetime) -> None:
        c = self.control
        timeout_s = c.get_raw("WSetRvrtTms") or 0
        if not timeout_s or c.get_raw("WSetEna") != 1 or self._ctl_written_at is None:
            c.set_raw("WSetRvrtRem", 0)
            return
        left_s = timeout_s - (now - self._ctl_written_at).total_seconds()
        if left_s > 0:
            c.set_raw("WSetRvrtRem", int(left_s + 0.999))
            return
        c.set_raw("WSetEna", c.get_raw("WSetEnaRvrt") or 0)
        c.set_raw("WSet", c.get_raw("WSetRvrt") or 0)
        c.set_raw("WSetRvrtRem", 0)
        self.reverts += 1
        log.info("unit %d: no control write for %d s, reverted to %.0f W", self.unit_id, timeout_s,
                 self.setpoint_w)

    def advance(self, now: datetime) -> None:
        self._check_revert(now)
        self.plant.command(self.setpoint_w)
        self.plant.advance(now)

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        p, m, s = self.plant, self.measure, self.storage
        der_w = -p.actual_w                               # + = injection (discharging)
        m.set_raw("St", 1 if p.plugged else 0)
        if p.fault:
            m.set_raw("InvSt", INV_FAULT)
        elif not p.plugged:
            m.set_raw("InvSt", INV_OFF)
        else:
            m.set_raw("InvSt", INV_RUNNING if abs(p.actual_w) > 0.5 else INV_STANDBY)
        m.set("W", der_w)
        m.set("A", p.current_a)
        m.set("LNV", p.spec.voltage_v)
        m.set("Hz", 50.0)
        m.set("TotWhInj", p.discharged_wh)
        m.set("TotWhAbs", p.charged_wh)
        for n in range(1, 4):
            on = n <= p.spec.phases
            m.set(f"WL{n}", der_w / p.spec.phases if on else None)
            m.set(f"AL{n}", p.current_a if on else None)
            m.set(f"VL{n}", p.spec.voltage_v if on else None)
        if p.spec.phases == 3:
            m.set("LLV", p.spec.voltage_v * 3 ** 0.5)
        m.set("TmpCab", 30.0 + 10 * abs(p.actual_w) / p.spec.max_power_w)
        m.set_raw("Alrm", 1 if p.fault else 0)
        if p.plugged:
            s.set("WHRtg", p.car.capacity_wh)
            s.set("WHAvail", p.energy_wh if p.spec.reports_soc else None)
            s.set("SoC", p.reported_soc_pct)     # None = not implemented (an AC charger)
            s.set("SoH", 100.0)
            s.set_raw("Sta", 2 if p.fault else 0)
        else:
            for name in ("WHRtg", "WHAvail", "SoC", "SoH", "Sta"):
                s.set(name, None)
