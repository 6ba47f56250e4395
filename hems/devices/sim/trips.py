"""When the simulated car is away: a seeded, realistic schedule of trips.

Weekdays: the car leaves around 07:30 local time (+/- about 15 min) and comes back at a time drawn
from ElaadNL's distribution of home-charging arrivals between 16:00 and 21:00 (mean about 18:00);
30-60 km. Weekends: on about half the days one trip of 2-6 h, arriving between 11:00 and 20:00
by ElaadNL's weekend distribution; 10-80 km. Each day's trips depend only on (seed, date), so the
schedule is the same however the simulation is stepped.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

import hems

_DATA = Path(hems.__file__).parent / "data"


@dataclass(frozen=True)
class Trip:
    depart: datetime              # UTC
    arrive: datetime              # UTC
    distance_km: float


@functools.lru_cache(maxsize=2)
def arrival_distribution(weekend: bool) -> tuple[np.ndarray, np.ndarray]:
    """(minutes after local midnight, share) of home-charging arrivals, ElaadNL, 15-min slots."""
    name = "elaad_distribution-of-arrival-weekend.csv" if weekend else "elaad_distribution-of-arrival.csv"
    with open(_DATA / name, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    minutes = np.array([int(r["Arrival time"][:2]) * 60 + int(r["Arrival time"][3:5]) for r in rows])
    share = np.array([float(r["private"]) for r in rows])
    return minutes, share


def _sample_minute(rng: np.random.Generator, weekend: bool, lo_min: int, hi_min: int) -> float:
    minutes, share = arrival_distribution(weekend)
    mask = (minutes >= lo_min) & (minutes < hi_min)
    weights = share[mask] / share[mask].sum()
    slot = rng.choice(minutes[mask], p=weights)
    return float(slot + rng.uniform(0, 15))


class TripSchedule:
    def __init__(self, seed: int = 0, tz: str = "Europe/Paris") -> None:
        self.seed = seed
        self.tz = ZoneInfo(tz)
        self._cache: dict[tuple[int, date], tuple[Trip, ...]] = {}

    def _local(self, day: date, minute: float) -> datetime:
        local = datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(minutes=minute)
        return local.astimezone(timezone.utc)

    def trips_on(self, day: date) -> tuple[Trip, ...]:
        """The trips leaving on local date `day` (for the current seed)."""
        key = (self.seed, day)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = self._draw(day)
        return self._cache[key]

    def _draw(self, day: date) -> tuple[Trip, ...]:
        rng = np.random.default_rng([self.seed, day.toordinal()])
        if day.weekday() < 5:
            depart_min = 7 * 60 + 30 + float(np.clip(rng.normal(0, 15), -45, 45))
            arrive_min = _sample_minute(rng, False, 16 * 60, 21 * 60)
            distance = float(rng.uniform(30, 60))
        else:
            if rng.random() >= 0.5:
                return ()
            arrive_min = _sample_minute(rng, True, 11 * 60, 20 * 60)
            depart_min = max(8 * 60, arrive_min - float(rng.uniform(120, 360)))
            distance = float(rng.uniform(10, 80))
        return (Trip(self._local(day, depart_min), self._local(day, arrive_min), round(distance, 1)),)

    def trips_between(self, start: datetime, end: datetime) -> list[Trip]:
        """Trips that overlap [start, end), in order."""
        first = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        out: list[Trip] = []
        day = first
        while day <= last:
            out += [t for t in self.trips_on(day) if t.arrive > start and t.depart < end]
            day += timedelta(days=1)
        return out
