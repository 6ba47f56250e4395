"""Real house load and PV from hems/data/house_fr_2024_30min.csv, as functions of time.

Gaps (NaN) are filled once at load time:
- a gap of up to 2 h between two valid samples: linear interpolation;
- longer: the median of the same half-hour on the 3 days before and after that have a value;
- still nothing: 0 W for PV (the long PV gaps are nights), the overall median for load.
Between samples the power is interpolated linearly. A time outside the data year is mapped to
the same day of year and time of day inside it (the data repeat with a 365-day period).
"""
from __future__ import annotations

import csv
import functools
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

import hems

DEFAULT_PATH = Path(hems.__file__).parent / "data" / "house_fr_2024_30min.csv"

SAMPLE_S = 1800
_DAY = 48                                  # samples per day
_SHORT_GAP = 4                             # samples (2 h)
_PERIOD_S = 365 * 86400


def fill_gaps(values: np.ndarray, night_zero: bool) -> np.ndarray:
    """Return a copy of `values` (NaN = missing) with every gap filled by the rules above."""
    out = values.astype(float).copy()
    n = len(out)
    missing = np.isnan(out)
    i = 0
    while i < n:                                                   # short gaps: linear
        if not missing[i]:
            i += 1
            continue
        j = i
        while j < n and missing[j]:
            j += 1
        if i > 0 and j < n and j - i <= _SHORT_GAP:
            out[i:j] = np.interp(np.arange(i, j), [i - 1, j], [out[i - 1], out[j]])
        i = j
    still = np.flatnonzero(np.isnan(out))
    fallback = 0.0 if night_zero else float(np.nanmedian(values))
    src = out.tolist()
    filled = out.copy()
    for k in still.tolist():                                       # same slot, nearby days
        near = [src[k + d * _DAY] for d in (-3, -2, -1, 1, 2, 3)
                if 0 <= k + d * _DAY < n and not math.isnan(src[k + d * _DAY])]
        filled[k] = statistics.median(near) if near else fallback
    return filled


@dataclass(frozen=True)
class HouseProfile:
    start: datetime                       # first sample, UTC
    load_w: np.ndarray                    # per 30-min sample, gaps filled
    pv_w: np.ndarray

    @classmethod
    def load(cls, path: str | Path | None = None) -> "HouseProfile":
        """Read and gap-fill the CSV (cached: the arrays are read-only)."""
        return _load(str(path or DEFAULT_PATH))

    @classmethod
    def parse(cls, text: str) -> "HouseProfile":
        rows = list(csv.reader(text.splitlines()))
        header, body = rows[0], rows[1:]
        if header[:3] != ["time_utc", "load_w", "pv_w"]:
            raise ValueError(f"unexpected columns {header} in house data")
        start = datetime.fromisoformat(body[0][0]).astimezone(timezone.utc)

        def column(idx: int) -> np.ndarray:
            return np.array([float(r[idx]) if r[idx] not in ("", "nan", "NaN") else np.nan for r in body])
        load, pv = column(1), column(2)
        count = min(len(body), _PERIOD_S // SAMPLE_S + 1)
        load_w = fill_gaps(load, night_zero=False)[:count]
        pv_w = np.clip(fill_gaps(pv, night_zero=True), 0, None)[:count]
        load_w.flags.writeable = False
        pv_w.flags.writeable = False
        return cls(start, load_w, pv_w)

    def _index(self, when: datetime) -> float:
        offset_s = (when - self.start).total_seconds() % _PERIOD_S
        return offset_s / SAMPLE_S

    def _at(self, series: np.ndarray, when: datetime) -> float:
        x = self._index(when)
        i = int(x)
        if i + 1 >= len(series):
            return float(series[-1])
        frac = x - i
        return float(series[i] * (1 - frac) + series[i + 1] * frac)

    def load_at(self, when: datetime) -> float:
        """House load (W) at `when`."""
        return self._at(self.load_w, when)

    def pv_at(self, when: datetime) -> float:
        """PV generation (W) at `when`."""
        return self._at(self.pv_w, when)

    def energy_wh(self, series: str, start: datetime, end: datetime, step_s: float = 60.0) -> float:
        """Energy of 'load' or 'pv' over [start, end] by the trapezoid rule (for checks and reports)."""
        fn = self.load_at if series == "load" else self.pv_at
        total_s = (end - start).total_seconds()
        steps = max(1, int(total_s / step_s))
        ts = [start + timedelta(seconds=total_s * k / steps) for k in range(steps + 1)]
        vals = np.array([fn(t) for t in ts])
        return float(np.trapezoid(vals, dx=total_s / steps) / 3600)


@functools.lru_cache(maxsize=4)
def _load(path: str) -> HouseProfile:
    with open(path, encoding="utf-8") as f:
        return HouseProfile.parse(f.read())
