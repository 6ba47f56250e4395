"""Short appliance peaks on top of the 30-min house data, keeping each half-hour's energy.

The data are half-hour values, so they never show a kettle or an oven; a fuse limit or a
peak-shaving rule needs those. In each half-hour slot, with a seeded probability, one appliance
runs for a few minutes at its power; the rest of the slot is lowered by the same energy, so
the slot's energy (and the day's) is unchanged. A slot whose load is too low to give that energy
back gets no peak, so the load never goes negative.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from hems.devices.sim.house_data import SAMPLE_S, HouseProfile

# (power W, duration s): kettle, cooking, washing machine heater, dishwasher heater
APPLIANCES = ((2000.0, 180.0), (2500.0, 1200.0), (2000.0, 900.0), (1800.0, 1200.0))
_FLOOR_W = 60.0


class LoadPeaks:
    def __init__(self, profile: HouseProfile, seed: int = 0, probability: float = 0.3) -> None:
        self.profile = profile
        self.seed = seed
        self.probability = probability

    def _event(self, slot: int) -> tuple[float, float, float] | None:
        """(start offset s within the slot, duration s, power W) or None."""
        rng = np.random.default_rng([self.seed, 9173, slot])
        if rng.random() >= self.probability:
            return None
        power_w, duration_s = APPLIANCES[int(rng.integers(len(APPLIANCES)))]
        start_s = float(rng.uniform(0, SAMPLE_S - duration_s))
        return start_s, duration_s, power_w

    def delta_w(self, when: datetime, scale: float = 1.0) -> float:
        """What to add to the (scaled) house load at `when`; averages 0 over every slot."""
        offset_s = (when - self.profile.start).total_seconds()
        slot = int(offset_s // SAMPLE_S)
        event = self._event(slot)
        if event is None:
            return 0.0
        start_s, duration_s, power_w = event
        mean_w = power_w * duration_s / SAMPLE_S
        slot_start = when.timestamp() - (offset_s - slot * SAMPLE_S)
        lows = [self.profile.load_at(datetime.fromtimestamp(slot_start + dt, when.tzinfo)) * scale
                for dt in (0.0, SAMPLE_S)]
        if min(lows) < mean_w + _FLOOR_W:
            return 0.0                                  # too little load to give the energy back
        in_event = start_s <= offset_s - slot * SAMPLE_S < start_s + duration_s
        return (power_w if in_event else 0.0) - mean_w
