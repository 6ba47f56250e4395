"""Estimate the car's state of charge by counting energy between known values (pure).

`observe` takes what was known and the next charger reading and returns what is known now:
- a reading with a state of charge replaces everything (source measured);
- energy that flowed since the last reading moves the value through the charge or discharge
  efficiency, and widens the error by the counting error (the efficiency and the charger's power
  reading are not exact);
- the car leaving (no car plugged) forgets the value: it comes back with another charge level.
A reading that cannot be trusted (a gap longer than `max_gap_s` while power flowed) widens the
error by the whole energy of the gap, so the estimate stays honest.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from hems.domain import ChargerReading, ChargerState
from hems.domain.soc import SocKnowledge, SocSource


@dataclass(frozen=True)
class CarBattery:
    capacity_wh: float
    charge_efficiency: float = 0.92        # AC energy into the charger -> energy stored
    discharge_efficiency: float = 0.92     # energy taken from the battery -> AC out
    counting_error: float = 0.05           # share of the counted energy the estimate may be off by
    measured_error_pct: float = 1.0        # chargers report whole percent
    entered_error_pct: float = 5.0         # what an owner's guess from the car's gauge is worth
    max_gap_s: float = 300.0               # readings further apart than this are a gap

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0:
            raise ValueError(f"capacity_wh {self.capacity_wh} must be > 0")
        for name in ("charge_efficiency", "discharge_efficiency"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} {value} must be in (0, 1]")


@dataclass(frozen=True)
class SocTrack:
    """The estimator's memory: what is known and the reading it was last moved with."""
    known: SocKnowledge | None = None
    last_at: datetime | None = None
    last_power_w: float = 0.0


def entered(track: SocTrack, soc_pct: float, at: datetime, battery: CarBattery) -> SocTrack:
    """The owner says how full the car is. A measured value newer than the estimate is kept."""
    if not 0.0 <= soc_pct <= 100.0:
        raise ValueError(f"the charge level must be between 0 and 100 %, not {soc_pct}")
    return replace(track, known=SocKnowledge(soc_pct, SocSource.ENTERED, at, battery.entered_error_pct))


def observe(track: SocTrack, reading: ChargerReading, battery: CarBattery) -> SocTrack:
    """What is known after this reading."""
    if reading.state is ChargerState.NO_CAR:
        return SocTrack()
    if reading.soc_pct is not None:
        known = SocKnowledge(float(reading.soc_pct), SocSource.MEASURED, reading.at, battery.measured_error_pct)
        return SocTrack(known, reading.at, reading.ev_power_w)
    if track.known is None:
        return SocTrack(None, reading.at, reading.ev_power_w)
    if track.last_at is None:                       # entered before any reading: count from here
        return replace(track, last_at=reading.at, last_power_w=reading.ev_power_w)
    dt_s = (reading.at - track.last_at).total_seconds()
    if dt_s <= 0:                                   # same or older reading: nothing flowed
        return track
    avg_w = (track.last_power_w + reading.ev_power_w) / 2
    ac_wh = avg_w * dt_s / 3600
    if ac_wh == 0.0:
        return replace(track, last_at=reading.at, last_power_w=reading.ev_power_w)
    stored_wh = ac_wh * battery.charge_efficiency if ac_wh > 0 else ac_wh / battery.discharge_efficiency
    delta_pct = stored_wh / battery.capacity_wh * 100
    error_frac = 1.0 if dt_s > battery.max_gap_s else battery.counting_error
    error_pct = track.known.error_pct + abs(delta_pct) * error_frac
    soc = min(100.0, max(0.0, track.known.soc_pct + delta_pct))
    known = SocKnowledge(soc, SocSource.ESTIMATED, reading.at, min(100.0, error_pct))
    return SocTrack(known, reading.at, reading.ev_power_w)
