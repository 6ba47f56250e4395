"""A simulated SunSpec PV inverter: models 1, 101/102/103, 120, 123 (curtailment by WMaxLimPct).

Set `available_w` (what the array could deliver now); the inverter outputs that, capped at its
rating and, when WMaxLim_Ena = 1, at WMaxLimPct % of WRtg. WMaxLimPct_RvrtTms > 0 lifts the limit
again when it is not rewritten within that many seconds.
"""
from __future__ import annotations

from datetime import datetime

from pymodbus.constants import ExcCodes

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.sunspec import ModelSpec, build_image, common_model
from hems.domain.clock import Clock

ST_OFF, ST_SLEEPING, ST_MPPT, ST_THROTTLED = 1, 2, 4, 5
_PHASES = {101: 1, 102: 2, 103: 3}


class SunSpecPvInverter(RegisterDevice):
    def __init__(self, *, unit_id: int = 1, clock: Clock | None = None, base: int = 40000,
                 inverter_model: int = 103, rating_w: float = 6000.0, voltage_v: float = 230.0,
                 serial: str = "PV0001") -> None:
        super().__init__(unit_id, clock)
        if inverter_model not in _PHASES:
            raise ValueError(f"inverter model {inverter_model} is not 101, 102 or 103")
        self.phases = _PHASES[inverter_model]
        self.rating_w = rating_w
        self.voltage_v = voltage_v
        self.frequency_hz = 50.0
        self.available_w = 0.0                  # physical input: what PV could deliver
        self.energy_wh = 0.0
        self._at: datetime | None = None
        self._limit_written_at: datetime | None = None
        views = build_image(self.holding, [
            common_model("hems", "SimPV", serial),
            ModelSpec(inverter_model, scale_factors={
                "A_SF": -2, "V_SF": -1, "W_SF": 0, "Hz_SF": -2, "WH_SF": 0, "DCW_SF": 0, "Tmp_SF": -1}),
            ModelSpec(120, scale_factors={
                "WRtg_SF": 0, "VARtg_SF": 0, "VArRtg_SF": 0, "ARtg_SF": -1, "PFRtg_SF": -3},
                values={"DERTyp": 4, "WRtg": rating_w, "VARtg": rating_w, "VArRtgQ1": rating_w * 0.44,
                        "VArRtgQ2": 0, "VArRtgQ3": 0, "VArRtgQ4": -rating_w * 0.44,
                        "ARtg": rating_w / voltage_v / self.phases * 1.1,
                        "PFRtgQ1": 0.9, "PFRtgQ2": 0, "PFRtgQ3": 0, "PFRtgQ4": -0.9}),
            ModelSpec(123, scale_factors={"WMaxLimPct_SF": -1, "OutPFSet_SF": -3, "VArPct_SF": -1},
                      values={"Conn": 1, "WMaxLimPct": 100, "WMaxLim_Ena": 0, "WMaxLimPct_RvrtTms": 0,
                              "OutPFSet": 1.0, "OutPFSet_Ena": 0, "VArPct_Ena": 0},
                      writable=frozenset({"Conn", "WMaxLimPct", "WMaxLimPct_RvrtTms", "WMaxLim_Ena"})),
        ], base)
        views[1].set_raw("DA", unit_id)
        self.common, self.inverter, self.nameplate, self.controls = (
            views[1], views[inverter_model], views[120], views[123])
        self.refresh(self.clock.now())

    # --- what the client asked -------------------------------------------------------
    @property
    def limit_pct(self) -> float | None:
        """The curtailment in force (% of WRtg), None when not limiting."""
        if self.controls.get_raw("WMaxLim_Ena") != 1:
            return None
        return float(self.controls.get("WMaxLimPct") or 0.0)

    @property
    def output_w(self) -> float:
        if self.controls.get_raw("Conn") == 0:
            return 0.0
        cap = self.rating_w
        limit = self.limit_pct
        if limit is not None:
            cap = min(cap, self.rating_w * limit / 100)
        return max(0.0, min(self.available_w, cap))

    # --- device behaviour ------------------------------------------------------------
    def check_write(self, address: int, values: list[int]) -> ExcCodes | None:
        for i, raw in enumerate(values):
            p = self.controls.point_at(address + i)
            if p is None:
                continue
            if p.name == "WMaxLimPct" and raw * 10 ** self.controls.sf("WMaxLimPct") > 100:
                return ExcCodes.ILLEGAL_VALUE
            if p.name in ("WMaxLim_Ena", "Conn") and raw not in (0, 1):
                return ExcCodes.ILLEGAL_VALUE
        return None

    def after_write(self, address: int, count: int, now: datetime) -> None:
        names = {self.controls.point_at(a).name for a in range(address, address + count)
                 if self.controls.point_at(a) is not None}
        if names & {"WMaxLimPct", "WMaxLim_Ena", "WMaxLimPct_RvrtTms"}:
            self._limit_written_at = now

    def advance(self, now: datetime) -> None:
        if self._at is not None and now > self._at:
            self.energy_wh += self.output_w * (now - self._at).total_seconds() / 3600
        if self._at is None or now > self._at:
            self._at = now
        revert_s = self.controls.get_raw("WMaxLimPct_RvrtTms") or 0
        if (revert_s and self._limit_written_at is not None and self.limit_pct is not None
                and (now - self._limit_written_at).total_seconds() >= revert_s):
            self.controls.set_raw("WMaxLim_Ena", 0)

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        out_w = self.output_w
        inv = self.inverter
        phase_a = out_w / self.phases / self.voltage_v
        inv.set("A", phase_a * self.phases)
        for i, ph in enumerate("ABC"):
            inv.set(f"Aph{ph}", phase_a if i < self.phases else None)
            inv.set(f"PhVph{ph}", self.voltage_v if i < self.phases else None)
        inv.set("W", out_w)
        inv.set("Hz", self.frequency_hz)
        inv.set("WH", self.energy_wh)
        inv.set("DCW", out_w / 0.97 if out_w > 0 else 0)
        inv.set("TmpCab", 30.0 + 15.0 * out_w / self.rating_w)
        inv.set_raw("Evt1", 0)
        inv.set_raw("Evt2", 0)
        if out_w <= 0:
            st = ST_SLEEPING
        elif self.limit_pct is not None and out_w < self.available_w:
            st = ST_THROTTLED
        else:
            st = ST_MPPT
        inv.set_raw("St", st)
