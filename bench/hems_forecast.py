"""hems.forecast driven over the benchmark year, from past data only, refreshed every hour.

At the start of each hour it forecasts the next 48 h: PV (clear sky for the French house at
48.83 N 6.86 E, 35 deg south, corrected by the last 14 days), house load (the last 56 days,
Europe/Paris local time), and spot prices (published day-ahead prices as far as the auction has
published them at that hour, forecast beyond). Within the hour the planner uses that forecast.
Issued forecasts are kept (about 20 MB for a year), so every strategy sees the same ones.
"""
from __future__ import annotations

import numpy as np

from data import STEP_S, YEAR_START, Year
from hems.forecast import PvSite, load_forecast_w, pv_forecast_w, spot_price_forecast, utc_seconds
from simple_forecast import published_until

HORIZON = 192        # 48 h of 15-min intervals
LOAD_DAYS, PV_DAYS, PRICE_DAYS = 56, 14, 14


class HemsForecast:
    def __init__(self, year: Year) -> None:
        self.year = year
        n = len(year.load_w)
        start = np.datetime64(YEAR_START.replace(tzinfo=None), "s")
        self.times = start + np.arange(n + HORIZON) * np.timedelta64(STEP_S, "s")
        lat, lon, tilt, azimuth = year.pv_site
        self.site = PvSite(lat, lon, float(np.max(year.pv_w)) / 0.85, tilt, azimuth)
        self.known_until = published_until(n)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _issue(self, t: int) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        hour = t - t % 4
        if hour not in self._cache:
            y, times = self.year, self.times
            ahead = times[hour:hour + HORIZON]
            lo = max(0, hour - LOAD_DAYS * 96)
            load = load_forecast_w(ahead, "Europe/Paris", times[lo:hour], y.load_w[lo:hour])
            lo = max(0, hour - PV_DAYS * 96)
            pv = pv_forecast_w(ahead, self.site, times[lo:hour], y.pv_w[lo:hour])
            known = self.known_until[hour]
            lo = max(0, hour - PRICE_DAYS * 96)
            spot = spot_price_forecast(utc_seconds(ahead), times[lo:known], y.spot_per_kwh[lo:known],
                                       tz="Europe/Amsterdam")
            self._cache[hour] = (np.asarray(load, float), np.maximum(np.asarray(pv, float), 0.0),
                                 np.asarray(spot, float))
        return hour, self._cache[hour]

    def _slice(self, which: int, t: int, end: int) -> np.ndarray:
        hour, arrays = self._issue(t)
        if end - hour > HORIZON:
            raise ValueError(f"session longer than the {HORIZON}-interval forecast horizon")
        return arrays[which][t - hour:end - hour]

    def load_w(self, t: int, end: int) -> np.ndarray:
        return self._slice(0, t, end)

    def pv_w(self, t: int, end: int) -> np.ndarray:
        return self._slice(1, t, end)

    def spot_per_kwh(self, t: int, end: int) -> np.ndarray:
        return self._slice(2, t, end)
