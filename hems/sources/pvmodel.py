"""The on-device correction on top of a weather-based PV forecast (pure numpy).

ratio(solar hour) = recency-weighted measured energy / forecast energy over the last days, with
a prior pulling towards 1 (the provider is right until the home shows otherwise). It absorbs
shading, soiling, a wrong peak power or orientation, and a provider's bias at this place.
"""
from __future__ import annotations

import numpy as np


def _solar_hour(utc_s: np.ndarray, longitude_deg: float) -> np.ndarray:
    return (np.floor(np.mod(utc_s / 3600.0 + longitude_deg / 15.0, 24.0))).astype(int)


def correction_ratio(t_s: np.ndarray, longitude_deg: float, hist_t_s: np.ndarray, measured_w: np.ndarray,
                     forecast_w: np.ndarray, *, peak_w: float, days: float = 14.0, half_life_days: float = 4.0,
                     lo: float = 0.3, hi: float = 1.5) -> np.ndarray:
    """Ratio to apply at each instant t_s. History: measured and forecast power (W) at hist_t_s
    (NaN where either is unknown). Without usable history: 1."""
    t = np.asarray(t_s, dtype=float)
    ht = np.asarray(hist_t_s, dtype=float)
    m, f = np.asarray(measured_w, dtype=float), np.asarray(forecast_w, dtype=float)
    ok = np.isfinite(m) & np.isfinite(f) & (f > 0.05 * max(peak_w, 1.0) * 0.85)
    if ht.size == 0 or not ok.any():
        return np.ones(t.shape)
    end = ht[ok].max()
    keep = ok & (ht >= end - days * 86400)
    ht, m, f = ht[keep], np.clip(m[keep], 0.0, None), f[keep]
    w = 0.5 ** ((end - ht) / 86400.0 / half_life_days)
    prior = 0.5 * max(peak_w, 1.0)                     # about half a sunny hour of evidence
    overall = (np.sum(w * m) + prior) / (np.sum(w * f) + prior)
    slot = _solar_hour(ht, longitude_deg)
    by_slot = (np.bincount(slot, w * m, minlength=24) + prior * overall) / (np.bincount(slot, w * f, minlength=24) + prior)
    return np.clip(by_slot[_solar_hour(t, longitude_deg)], lo, hi)
