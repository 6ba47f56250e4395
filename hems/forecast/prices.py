"""Import and export prices per interval: from the tariff, from published day-ahead prices, and
forecast beyond what the market has published.

fixed    constant prices.
tou      import price by local weekday and time (the tariff's periods), constant export.
dynamic  spot price where published (import = spot + markup; export = spot, or a fixed feed-in);
         beyond, a daily level (the last days' means) plus the hourly shape and the weekend
         offset of the last two weeks (see spot_price_forecast).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import numpy as np

from hems.forecast.timeutil import local_parts, step_s, utc_seconds, zone


def price_forecast(times_utc: Any, tariff: Any, known_times: Any = (), known_price_per_kwh: Any = (), *,
                   tz: str | ZoneInfo | None = None, days: float = 14.0) -> tuple[np.ndarray, np.ndarray]:
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
        spot = spot_price_forecast(t, known_times, known_price_per_kwh, tz=tz, days=days)
        imp = spot + float(tariff.import_markup_per_kwh or 0.0)
        exp = spot.copy() if getattr(tariff, "export", "spot") == "spot" else np.full(t.shape, float(tariff.export_price_per_kwh))
        return imp, exp
    raise ValueError(f"unknown tariff kind {kind!r} (fixed, tou or dynamic)")


def price_lookup(tariff: Any, known_times: Any = (), known_price_per_kwh: Any = (), *,
                 tz: str | ZoneInfo | None = None) -> Callable[[datetime], tuple[float, float]]:
    """A function giving (import, export) price per kWh at one instant (aware datetime)."""
    kt, kp = utc_seconds(known_times), np.asarray(known_price_per_kwh, dtype=float)

    def at(when: datetime) -> tuple[float, float]:
        imp, exp = price_forecast(np.array([when.timestamp()]), tariff, kt, kp, tz=tz)
        return float(imp[0]), float(exp[0])
    return at


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
                        days: float = 14.0, level_half_life_days: float = 1.0) -> np.ndarray:
    """Spot price per kWh: the published price where there is one; beyond, a daily level plus an
    hourly shape plus a weekend offset, all learned from the last `days` days of published prices
    (0 with no prices at all).

    level   recency-weighted mean of the daily means (half-life `level_half_life_days`), weekend
            effect removed: price levels persist for days (fuel prices, wind spells);
    shape   mean deviation of each local hour from its day's mean: the daily cycle repeats;
    weekend mean weekend-day level minus mean weekday level, added on Saturdays and Sundays.
    """
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
    if not covered.all():
        out[~covered] = _daily_model(t[~covered], kt, kp, kt[-1] + step, tz, days, level_half_life_days)
    return out


def _daily_model(t: np.ndarray, kt: np.ndarray, kp: np.ndarray, end: float, tz: Any, days: float,
                 level_half_life_days: float) -> np.ndarray:
    recent = kt >= end - days * 86400
    day, weekday, sod = local_parts(kt[recent], tz)
    x = kp[recent]
    hour = (sod // 3600).astype(int) % 24
    days_seen, inverse = np.unique(day, return_inverse=True)
    count = np.bincount(inverse).astype(float)
    full = count >= 0.9 * count.max()              # partial days would bias their day's mean
    day_mean = np.bincount(inverse, x) / count
    in_full = full[inverse]
    resid = (x - day_mean[inverse])[in_full]
    shape = np.bincount(hour[in_full], resid, minlength=24) / np.maximum(np.bincount(hour[in_full], minlength=24), 1)
    day_level = np.bincount(inverse, x - shape[hour]) / count   # shape removed: fair for partial days too
    is_weekend = (days_seen + 3) % 7 >= 5
    weekend = 0.0
    if is_weekend.any() and (~is_weekend).any():
        weekend = float(np.average(day_level[is_weekend], weights=count[is_weekend])
                        - np.average(day_level[~is_weekend], weights=count[~is_weekend]))
    w = 0.5 ** ((days_seen.max() - days_seen) / level_half_life_days) * count / count.max()
    level = float(np.sum(w * (day_level - weekend * is_weekend)) / np.sum(w))
    _, wd_t, sod_t = local_parts(t, tz)
    return level + shape[(sod_t // 3600).astype(int) % 24] + weekend * (wd_t >= 5)


def dayahead_known_until(now: datetime, market_tz: str | ZoneInfo = "Europe/Amsterdam",
                         published_at: time = time(13, 0)) -> datetime:
    """Until when day-ahead prices are published at `now` (UTC): the end of tomorrow (market
    local time) once the auction results are out (about 12:45 CET in Europe), else the end of today."""
    tz = zone(market_tz)
    local = now.astimezone(tz)
    days_ahead = 2 if local.time() >= published_at else 1
    end_local = datetime.combine(local.date() + timedelta(days=days_ahead), time(0), tz)
    return end_local.astimezone(timezone.utc)
