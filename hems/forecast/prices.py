"""Import and export prices per interval: from the tariff, from published day-ahead prices, and
forecast beyond what the market has published.

fixed    constant prices.
tou      import price by local weekday and time (the tariff's periods), constant export.
dynamic  spot price where published (import = spot + markup; export = spot, or a fixed feed-in);
         beyond, the spot price is forecast as the recency-weighted mean of the same local hour
         over the last `days` published days (prices repeat daily far more than they persist).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.forecast.timeutil import local_parts, step_s, utc_seconds, zone


def price_forecast(times_utc: Any, tariff: Any, known_times: Any = (), known_price_per_kwh: Any = (), *,
                   tz: str | ZoneInfo | None = None, days: float = 7.0,
                   half_life_days: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(import_price_per_kwh, export_price_per_kwh) per interval starting at times_utc.

    tariff: hems.config.TariffConfig (or anything with its attributes). known_times /
    known_price_per_kwh: published spot prices (per kWh, not per MWh) with their start times,
    used by a dynamic tariff. tz: the home's time zone, for time-of-use periods and hours of day.
    """
    t = utc_seconds(times_utc)
    kind = tariff.kind
    if kind == "fixed":
        return np.full(t.shape, float(tariff.import_price_per_kwh)), np.full(t.shape, float(tariff.export_price_per_kwh or 0.0))
    if kind == "tou":
        return tou_import_price(t, tariff.periods, tz), np.full(t.shape, float(tariff.export_price_per_kwh or 0.0))
    if kind == "dynamic":
        spot = spot_price_forecast(t, known_times, known_price_per_kwh, tz=tz, days=days, half_life_days=half_life_days)
        imp = spot + float(tariff.import_markup_per_kwh or 0.0)
        exp = spot.copy() if getattr(tariff, "export", "spot") == "spot" else np.full(t.shape, float(tariff.export_price_per_kwh))
        return imp, exp
    raise ValueError(f"unknown tariff kind {kind!r} (fixed, tou or dynamic)")


def tou_import_price(t: np.ndarray, periods: Any, tz: str | ZoneInfo | None) -> np.ndarray:
    """Price per kWh of the time-of-use period each instant falls in (periods: days, start, end,
    price_per_kwh; end <= start wraps past midnight onto the next day)."""
    _, weekday, sod = local_parts(t, tz)
    out = np.full(t.shape, np.nan)
    for p in periods:
        a, b = p.start.hour * 3600 + p.start.minute * 60, p.end.hour * 3600 + p.end.minute * 60
        days = np.asarray(p.days)
        if b > a:
            hit = np.isin(weekday, days) & (sod >= a) & (sod < b)
        else:  # wraps: from a on the listed day to b on the next
            hit = (np.isin(weekday, days) & (sod >= a)) | (np.isin((weekday - 1) % 7, days) & (sod < b))
        out[hit & np.isnan(out)] = p.price_per_kwh
    if np.isnan(out).any():
        raise ValueError("time-of-use periods do not cover every time asked for")
    return out


def spot_price_forecast(t: np.ndarray, known_times: Any, known_price_per_kwh: Any, *, tz: str | ZoneInfo | None = None,
                        days: float = 7.0, half_life_days: float = 3.0) -> np.ndarray:
    """Spot price per kWh: the published price where there is one, else the weighted mean of the
    same local hour over the last `days` days of published prices (0 with no prices at all)."""
    kt = utc_seconds(known_times)
    kp = np.asarray(known_price_per_kwh, dtype=float)
    ok = np.isfinite(kp)
    kt, kp = kt[ok], kp[ok]
    out = np.zeros(t.shape)
    if kt.size == 0:
        return out
    order = np.argsort(kt)
    kt, kp = kt[order], kp[order]
    step = step_s(kt, 3600.0)
    idx = np.searchsorted(kt, t, side="right") - 1
    covered = (idx >= 0) & (t < kt[np.clip(idx, 0, None)] + step)
    out[covered] = kp[idx[covered]]
    if covered.all():
        return out
    end = kt[-1] + step
    recent = kt >= end - days * 86400
    _, _, sod = local_parts(kt[recent], tz)
    hour = (sod // 3600).astype(int) % 24
    w = 0.5 ** ((end - kt[recent]) / 86400.0 / half_life_days)
    num = np.bincount(hour, w * kp[recent], minlength=24)
    den = np.bincount(hour, w, minlength=24)
    mean_all = np.sum(w * kp[recent]) / np.sum(w)
    by_hour = np.where(den > 0, num / np.where(den > 0, den, 1.0), mean_all)
    _, _, sod_t = local_parts(t[~covered], tz)
    out[~covered] = by_hour[(sod_t // 3600).astype(int) % 24]
    return out


def dayahead_known_until(now: datetime, market_tz: str | ZoneInfo = "Europe/Amsterdam",
                         published_at: time = time(13, 0)) -> datetime:
    """Until when day-ahead prices are published at `now` (UTC): the end of tomorrow (market
    local time) once the auction results are out (about 12:45 CET in Europe), else the end of today."""
    tz = zone(market_tz)
    local = now.astimezone(tz)
    days_ahead = 2 if local.time() >= published_at else 1
    end_local = datetime.combine(local.date() + timedelta(days=days_ahead), time(0), tz)
    return end_local.astimezone(timezone.utc)
