"""What the agent knows of the car's state of charge, and the short charge that reads it.

`CarSoc` holds the estimator's memory (hems.control.soc_estimate) and, for a charger that reports
the level only while power flows (resolved once at wiring: `probe_rules` is None otherwise), the
probe's memory (hems.control.soc_probe). The agent feeds it every fresh charger reading and the
owner's entries; it answers what is known (`known`, never an invented number) and whether to
charge briefly to learn the level.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hems.control.car_plan import CarPlanInputs, car_plan_inputs
from hems.control.soc_estimate import CarBattery, SocTrack, entered, observe
from hems.control.soc_probe import ProbeRules, ProbeState, probe
from hems.domain import ChargerReading, ChargerState, EvSession
from hems.domain.soc import SocKnowledge, SocSource


class CarSoc:
    def __init__(self, battery: CarBattery, probe_rules: ProbeRules | None = None) -> None:
        self.battery = battery
        self.probe_rules = probe_rules
        self._track = SocTrack()
        self._probe = ProbeState()
        self._added_wh = 0.0                    # stored in the car since it was plugged in (counted)
        self._last: tuple[datetime, float] | None = None

    @property
    def known(self) -> SocKnowledge | None:
        return self._track.known

    def observe(self, reading: ChargerReading) -> bool:
        """Take a fresh charger reading. True when the planner should hear of it: the level became
        known or unknown, or a measured value replaced an entered or estimated one."""
        before = self._track.known
        self._count(reading)
        self._track = observe(self._track, reading, self.battery)
        after = self._track.known
        if (before is None) != (after is None):
            return True
        return before is not None and after is not None and after.source is SocSource.MEASURED \
            and before.source is not SocSource.MEASURED

    @property
    def added_wh(self) -> float:
        """Energy stored in the car since it was plugged in (counted from the charger's power)."""
        return self._added_wh

    def plan_inputs(self, trip: EvSession | None, reserve_pct: float, max_soc_pct: float) -> CarPlanInputs:
        """What the planner is told (hems.control.car_plan). Planning by energy, the energy already
        added since plug-in counts towards the trip's."""
        capacity_wh = self.battery.capacity_wh
        if self.known is None and trip is not None:
            wanted_wh = trip.energy_wh if trip.energy_wh is not None else trip.target_soc_pct / 100 * capacity_wh
            trip = replace(trip, energy_wh=max(0.0, wanted_wh - self._added_wh))
        return car_plan_inputs(self.known, trip, reserve_pct, capacity_wh, max_soc_pct)

    def _count(self, reading: ChargerReading) -> None:
        if reading.state is ChargerState.NO_CAR:
            self._added_wh, self._last = 0.0, None
            return
        if self._last is not None and reading.at > self._last[0]:
            dt_s = (reading.at - self._last[0]).total_seconds()
            if dt_s <= self.battery.max_gap_s:
                ac_wh = (self._last[1] + reading.ev_power_w) / 2 * dt_s / 3600
                eff = self.battery.charge_efficiency if ac_wh > 0 else 1 / self.battery.discharge_efficiency
                self._added_wh += ac_wh * eff
        if self._last is None or reading.at > self._last[0]:
            self._last = (reading.at, reading.ev_power_w)

    def enter(self, soc_pct: float, at: datetime) -> SocKnowledge:
        """The owner says how full the car is (0..100 %); ValueError otherwise."""
        self._track = entered(self._track, soc_pct, at, self.battery)
        assert self._track.known is not None
        return self._track.known

    def probe_w(self, now: datetime, *, plugged: bool, mode_allows_charge: bool) -> float | None:
        """The power (W) to charge at now to make the charger report the level, or None."""
        if self.probe_rules is None:
            return None
        power_w, self._probe = probe(self._probe, now, plugged=plugged, soc_known=self.known is not None,
                                     mode_allows_charge=mode_allows_charge, rules=self.probe_rules)
        return power_w
