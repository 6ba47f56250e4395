"""A deliberately simple forecast used by the economics benchmark (labelled as such in its table).

Made at interval t for interval k >= t, from data measured before t only:
- load and PV: the mean of the same time of day over the previous 7 days (load) or 3 days (PV),
  using only days that had ended by t; for k = t the last measured value is blended in half-and-half;
- prices: the day-ahead price where the auction has published it (after 13:00 Amsterdam time the
  whole next day is known), otherwise the same time of day of the last published day.
"""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np

from data import YEAR_START, Year

LOCAL = ZoneInfo("Europe/Amsterdam")
PER_DAY = 96


def _day_mean(values: np.ndarray, first: int, days: int) -> np.ndarray:
    """out[k] = mean of values[k - 96*d] for d = first .. first+days-1 (earlier data where missing)."""
    acc = np.zeros_like(values)
    for d in range(first, first + days):
        shifted = np.empty_like(values)
        lag = min(d * PER_DAY, len(values))
        shifted[lag:] = values[:len(values) - lag]
        shifted[:lag] = values[:lag]
        acc += shifted
    return acc / days


def published_until(n: int) -> np.ndarray:
    """For each interval t: the first interval whose day-ahead price is not yet known at t."""
    out = np.empty(n, dtype=np.int64)
    for t in range(0, n, 4):   # hourly is enough: publication is on the hour
        now = (YEAR_START + timedelta(minutes=15 * t)).astimezone(LOCAL)
        end_day = now.replace(hour=0, minute=0) + timedelta(days=2 if now.hour >= 13 else 1)
        out[t:t + 4] = int((end_day - YEAR_START).total_seconds()) // 900
    return np.minimum(out, n)


class SimpleForecast:
    def __init__(self, year: Year) -> None:
        self.year = year
        self.load = (_day_mean(year.load_w, 1, 7), _day_mean(year.load_w, 2, 7))
        self.pv = (_day_mean(year.pv_w, 1, 3), _day_mean(year.pv_w, 2, 3))
        self.known_until = published_until(len(year.spot_per_kwh))

    def _profile(self, pair: tuple[np.ndarray, np.ndarray], actual: np.ndarray, t: int, end: int) -> np.ndarray:
        k = np.arange(t, end)
        out = np.where(k < t + PER_DAY, pair[0][t:end], pair[1][t:end])
        if t > 0:
            out[0] = 0.5 * actual[t - 1] + 0.5 * out[0]
        return out

    def load_w(self, t: int, end: int) -> np.ndarray:
        return self._profile(self.load, self.year.load_w, t, end)

    def pv_w(self, t: int, end: int) -> np.ndarray:
        return np.maximum(self._profile(self.pv, self.year.pv_w, t, end), 0.0)

    def spot_per_kwh(self, t: int, end: int) -> np.ndarray:
        known = self.known_until[t]
        k = np.arange(t, end)
        back = np.maximum(0, (k - known) // PER_DAY + 1) * PER_DAY
        return self.year.spot_per_kwh[k - back]
