"""House load forecast: a weekday / time-of-day profile learned from history.

The profile is a recency-weighted mean per 15-minute slot of local time (half-life 3 days:
the level follows weather and season) plus an offset per day type (Monday-Friday, Saturday,
Sunday) learned over weeks. Thin data is shrunk towards pooled profiles (weekend, all days) and
a default household profile, so a new install starts with something sensible and learns within days. The first hours are corrected by how far the last
hour ran above or below its profile, fading with `persistence_tau_h`.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.forecast.timeutil import coarsen, local_parts, step_s, utc_seconds

SLOT_S = 900
SLOTS = 86400 // SLOT_S

# A typical European household without electric heating, W by local hour (about 3500 kWh a year).
_DEFAULT_BY_HOUR_W = np.array([260, 240, 230, 225, 225, 240, 320, 480, 520, 430, 380, 380,
                               430, 400, 350, 340, 370, 480, 640, 700, 660, 560, 430, 320], dtype=float)


def default_load_profile_w(mean_w: float | None = None) -> np.ndarray:
    """The default profile per 15-min slot of the local day, optionally rescaled to a mean (W)."""
    by_slot = np.repeat(_DEFAULT_BY_HOUR_W, 4)
    return by_slot if mean_w is None else by_slot * (mean_w / by_slot.mean())


def day_type(weekday: np.ndarray) -> np.ndarray:
    """0 = Monday-Friday, 1 = Saturday, 2 = Sunday."""
    return np.where(weekday < 5, 0, weekday - 4)


def load_forecast_w(times_utc: Any, tz: str | ZoneInfo | None, history_times: Any = (), history_load_w: Any = (),
                    *, days: float = 56.0, half_life_days: float = 3.0, weekly_half_life_days: float = 14.0,
                    prior_days: float = 0.5, weekly_prior_days: float = 1.0, persistence_tau_h: float = 1.0,
                    default_mean_w: float | None = None) -> np.ndarray:
    """Forecast house load (W, + consumption) per interval starting at times_utc.

    history_times / history_load_w: measured house load (W) per interval (NaN allowed).
    tz: the home's time zone (the profile follows local time, DST included).
    """
    t = utc_seconds(times_utc)
    ht, hl = coarsen(utc_seconds(history_times), np.asarray(history_load_w, dtype=float), SLOT_S)
    profile = load_profile_w(ht, hl, tz, days=days, half_life_days=half_life_days,
                             weekly_half_life_days=weekly_half_life_days, prior_days=prior_days,
                             weekly_prior_days=weekly_prior_days, default_mean_w=default_mean_w)
    _, wd, sod = local_parts(t, tz)
    out = profile[day_type(wd), (sod // SLOT_S).astype(int) % SLOTS]
    out = _persistence(out, t, ht, hl, profile, tz, persistence_tau_h)
    return np.clip(out, 0.0, None)


def load_profile_w(ht: np.ndarray, hl: np.ndarray, tz: Any, *, days: float = 56.0, half_life_days: float = 3.0,
                   weekly_half_life_days: float = 14.0, prior_days: float = 0.5, weekly_prior_days: float = 1.0,
                   default_mean_w: float | None = None) -> np.ndarray:
    """The (3 day types x 96 slots) profile in W: a recent time-of-day level (half-life
    `half_life_days`) plus each day type's offset from it (learned with the longer
    `weekly_half_life_days`, since a day type recurs only weekly). Loads follow the weather and
    the season more than the weekday, so the level must adapt fast; the offsets need weeks."""
    default = default_load_profile_w(default_mean_w)
    ok = np.isfinite(hl)
    if ht.size:
        ok &= ht >= ht.max() - days * 86400
    ht, hl = ht[ok], hl[ok]
    if ht.size == 0:
        return np.tile(default, (3, 1))
    # one day's worth of samples in a slot weighs 1 before decay; a sample coarser than a slot
    # (e.g. 30 min) fills every slot it covers
    step = step_s(ht, SLOT_S)
    frac, span = (step / SLOT_S, 1) if step <= SLOT_S else (1.0, int(round(step / SLOT_S)))
    _, wd, sod = local_parts(ht, tz)
    types = day_type(wd)
    slots = ((sod // SLOT_S).astype(int)[:, None] + np.arange(span)[None, :]) % SLOTS
    idx = np.repeat(types, span) * SLOTS + slots.ravel()
    age_days = (ht.max() - ht) / 86400.0

    def sums(values: np.ndarray, hl_days: float) -> tuple[np.ndarray, np.ndarray]:
        w = np.repeat(0.5 ** (age_days / hl_days) * frac, span)
        num = np.bincount(idx, w * values.ravel(), minlength=3 * SLOTS).reshape(3, SLOTS)
        den = np.bincount(idx, w, minlength=3 * SLOTS).reshape(3, SLOTS)
        return num, den

    # day-type offsets: Saturday and Sunday shrink towards the weekend, the weekend and
    # weekdays towards all days
    num, den = sums(np.repeat(hl, span), weekly_half_life_days)
    all_days = num.sum(axis=0) / np.maximum(den.sum(axis=0), 1e-12)
    k = weekly_prior_days
    weekend = (num[1:].sum(axis=0) + k * all_days) / (den[1:].sum(axis=0) + k)
    by_type = (num + k * np.stack([all_days, weekend, weekend])) / (den + k)
    offset = by_type - all_days
    # the recent level per slot, with the day-type effect taken out, shrunk towards the default
    # profile scaled to this home's level
    num, den = sums(np.repeat(hl, span).reshape(-1, span) - offset[types[:, None], slots], half_life_days)
    w = 0.5 ** (age_days / half_life_days)
    base = default * (np.sum(w * hl) / np.sum(w) / default.mean()) if default_mean_w is None else default
    level = (num.sum(axis=0) + prior_days * base) / (den.sum(axis=0) + prior_days)
    return level + offset


def _persistence(out: np.ndarray, t: np.ndarray, ht: np.ndarray, hl: np.ndarray, profile: np.ndarray,
                 tz: Any, tau_h: float) -> np.ndarray:
    if tau_h <= 0 or ht.size == 0 or out.size == 0:
        return out
    end = ht.max() + step_s(ht, 0.0)
    recent = (ht >= end - 3600) & np.isfinite(hl)
    if not recent.any():
        return out
    _, wd, sod = local_parts(ht[recent], tz)
    expected = profile[day_type(wd), (sod // SLOT_S).astype(int) % SLOTS]
    excess_w = float(np.mean(hl[recent] - expected))
    lead_h = np.clip((t - end) / 3600.0, 0.0, None)
    return out + excess_w * np.exp(-lead_h / tau_h)
