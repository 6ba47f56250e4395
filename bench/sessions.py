"""Home charging sessions for the benchmark year, drawn from the ElaadNL statistics (fixed seed).

One session a day. Arrival: the 15-min slot is drawn from ElaadNL's home ("private") arrival
distribution, weekday or weekend, in Amsterdam local time. Length: ElaadNL's mean home session
length for that arrival time, scaled by a factor drawn from the home connection-time
distribution (divided by its mean), between 1 h and the next day's arrival. Trip energy before
each arrival: drawn from the home energy-demand distribution, at most 40 kWh.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from data import DATA, DAYS, STEP_S, YEAR_START

LOCAL = ZoneInfo("Europe/Amsterdam")
MAX_TRIP_WH = 40_000.0


@dataclass(frozen=True)
class Session:
    arrive: int        # interval index of the year
    depart: int        # first interval after the session
    trip_wh: float     # energy used driving since the previous departure


def _table(name: str, column: int) -> tuple[list[str], np.ndarray]:
    with open(DATA / name, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    return [r[0] for r in rows], np.array([float(r[column] or "nan") for r in rows])


def _quantile_sampler(name: str):
    """ElaadNL gives 'x % of home sessions exceed value' for x = 0..100: sample by inverse CDF."""
    pct, value = _table(name, 1)
    x = np.array([float(p) for p in pct])
    return lambda rng, size=None: np.interp(rng.uniform(0, 100, size), x, value), float(value.mean())


def _slot_minutes(label: str) -> int:
    h, m = label.split(":")
    return int(h) * 60 + int(m)


def draw_sessions(seed: int = 2024) -> list[Session]:
    rng = np.random.default_rng(seed)
    labels, weekday = _table("elaad_distribution-of-arrival.csv", 1)
    _, weekend = _table("elaad_distribution-of-arrival-weekend.csv", 1)
    slots = np.array([_slot_minutes(s) for s in labels])
    len_labels, mean_len_h = _table("elaad_mean-session-length-per.csv", 1)
    len_at = dict(zip((_slot_minutes(s) for s in len_labels), mean_len_h))
    connection, connection_mean = _quantile_sampler("elaad_distribution-of-connection-time.csv")
    energy, _ = _quantile_sampler("elaad_distribution-of-energy-demand.csv")
    arrivals = []
    for day in range(DAYS):
        local_day = (YEAR_START + timedelta(days=day)).astimezone(LOCAL).date()
        p = weekend if local_day.weekday() >= 5 else weekday
        minute = int(rng.choice(slots, p=p / p.sum()))
        local = datetime(local_day.year, local_day.month, local_day.day, tzinfo=LOCAL) \
            + timedelta(minutes=minute)
        length_h = len_at[minute - minute % 30] * float(connection(rng)) / connection_mean
        arrivals.append((local.astimezone(timezone.utc), length_h, float(energy(rng))))
    sessions = []
    for i, (at, length_h, trip_kwh) in enumerate(arrivals):
        k = int((at - YEAR_START).total_seconds()) // STEP_S
        if k < 0:
            continue
        limit = DAYS * 96 if i + 1 == len(arrivals) else \
            int((arrivals[i + 1][0] - YEAR_START).total_seconds()) // STEP_S - 2
        depart = min(max(k + 4, k + int(round(length_h * 4))), limit)
        if depart - k >= 4:
            sessions.append(Session(k, depart, min(trip_kwh * 1000.0, MAX_TRIP_WH)))
    return sessions


if __name__ == "__main__":
    s = draw_sessions()
    hours = np.array([(x.depart - x.arrive) / 4 for x in s])
    trips = np.array([x.trip_wh for x in s]) / 1000
    print(f"{len(s)} sessions, mean {hours.mean():.1f} h (median {np.median(hours):.1f}), "
          f"trip mean {trips.mean():.1f} kWh, total {trips.sum():.0f} kWh/yr")
