"""What the planner is told about the car, from what is known of it (pure).

Known state of charge (measured, entered or estimated): plan from the lowest value it can be
(`low_pct`), so the departure target is met and the reserve kept whatever the estimate's error;
discharge only when that lowest value is above the reserve (hems.domain.soc.may_discharge).

Unknown state of charge: plan by energy. The planner's battery starts empty and the target is
the energy to add: the trip's `energy_wh` when the owner (or the car over ISO 15118) said how
much, else the whole target charge level (the most that can be needed; the car's battery
management stops the charge when it is full). No discharge at all.
"""
from __future__ import annotations

from dataclasses import dataclass

from hems.domain import EvSession
from hems.domain.soc import SocKnowledge, may_discharge


@dataclass(frozen=True)
class CarPlanInputs:
    start_pct: float                  # planner's state of charge at the start
    reserve_pct: float                # planner's floor
    allow_discharge: bool
    target_pct: float | None          # planner's target at departure (None: no trip)
    by_energy: bool                   # True: start_pct/target_pct count energy added, not charge level
    energy_wh: float | None = None    # the energy to add when planning by energy

    def describe(self, capacity_wh: float) -> str:
        """In the owner's words."""
        if self.by_energy:
            if self.energy_wh is None:
                return "charge level unknown: no trip to plan for"
            return f"charge level unknown: planning to add {self.energy_wh / 1000:.1f} kWh"
        return f"planning from {self.start_pct:.0f} %"


def car_plan_inputs(known: SocKnowledge | None, trip: EvSession | None, reserve_pct: float,
                    capacity_wh: float, max_soc_pct: float = 100.0) -> CarPlanInputs:
    if capacity_wh <= 0:
        raise ValueError(f"capacity_wh {capacity_wh} must be > 0")
    if known is not None:
        target = None if trip is None else trip.target_soc_pct
        if trip is not None and trip.energy_wh is not None:
            target = min(max_soc_pct, known.low_pct + trip.energy_wh / capacity_wh * 100)
        return CarPlanInputs(start_pct=known.low_pct, reserve_pct=reserve_pct,
                             allow_discharge=may_discharge(known, reserve_pct), target_pct=target,
                             by_energy=False)
    if trip is None:
        return CarPlanInputs(0.0, 0.0, False, None, by_energy=True)
    energy_wh = trip.energy_wh if trip.energy_wh is not None else trip.target_soc_pct / 100 * capacity_wh
    energy_wh = min(energy_wh, capacity_wh)
    return CarPlanInputs(start_pct=0.0, reserve_pct=0.0, allow_discharge=False,
                         target_pct=energy_wh / capacity_wh * 100, by_energy=True, energy_wh=energy_wh)
