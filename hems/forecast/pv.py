"""PV power forecast: a clear-sky model of the array, corrected by what it really produced.

forecast(t) = clear_sky_pv_w(t) * ratio(t), where ratio is learned from history:
- per solar hour of day, the recency-weighted ratio of measured to clear-sky energy over the
  last `days` days (it absorbs the weather climate of the season, shading and a wrong guess of
  the orientation or the peak power);
- for the first hours, blended with the ratio of the last `recent_h` hours (persistence of the
  clouds now), fading with `persistence_tau_h`.
Times are interval starts; the model is evaluated at each interval's middle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hems.forecast.solar import clear_sky, plane_of_array, solar_position
from hems.forecast.timeutil import coarsen, step_s, utc_seconds


@dataclass(frozen=True)
class PvSite:
    latitude_deg: float
    longitude_deg: float
    peak_w: float                       # DC peak power of the array
    tilt_deg: float = 35.0              # 0 = flat
    azimuth_deg: float = 180.0          # 180 = south
    derate: float = 0.85                # temperature, wiring and inverter losses at 1000 W/m2
    albedo: float = 0.2
    planes: tuple[tuple[float, float, float], ...] = ()   # (peak_w, tilt_deg, azimuth_deg) per roof plane;
                                                          # when given, they replace the single plane

    @classmethod
    def from_config(cls, site: Any) -> PvSite:
        """From hems.config.SiteConfig (latitude, longitude, pv_peak_w, pv_tilt_deg, pv_azimuth_deg,
        pv_planes)."""
        planes = tuple((p.peak_w, p.tilt_deg, p.azimuth_deg) for p in getattr(site, "pv_planes", ()))
        return cls(site.latitude, site.longitude, site.pv_peak_w, site.pv_tilt_deg, site.pv_azimuth_deg,
                   planes=planes)


def clear_sky_pv_w(times_utc: Any, site: PvSite, interval_s: float | None = None) -> np.ndarray:
    """AC power (W) of the array under a clear sky, at the middle of each interval."""
    t = utc_seconds(times_utc)
    if t.size == 0:
        return np.zeros(0)
    mid = t + (step_s(t, 0.0) if interval_s is None else interval_s) / 2
    zenith, azimuth = solar_position(mid, site.latitude_deg, site.longitude_deg)
    ghi, dni, dhi = clear_sky(mid, zenith)
    planes = site.planes or ((site.peak_w, site.tilt_deg, site.azimuth_deg),)
    total = np.zeros(t.shape)
    for peak_w, tilt_deg, azimuth_deg in planes:
        poa = plane_of_array(ghi, dni, dhi, zenith, azimuth, tilt_deg, azimuth_deg, site.albedo)
        total += np.clip(peak_w * site.derate * poa / 1000.0, 0.0, peak_w)
    return np.clip(total, 0.0, site.peak_w)


def _solar_hour(utc_s: np.ndarray, longitude_deg: float) -> np.ndarray:
    """Hour of mean solar time (0..23): slots that follow the sun, not the clock."""
    return (np.floor(np.mod(utc_s / 3600.0 + longitude_deg / 15.0, 24.0))).astype(int)


def pv_forecast_w(times_utc: Any, site: PvSite, history_times: Any = (), history_pv_w: Any = (), *,
                  days: float = 14.0, half_life_days: float = 4.0, default_ratio: float = 0.6,
                  recent_h: float = 1.0, persistence_tau_h: float = 8.0, prior_weight_wh: float | None = None,
                  interval_s: float | None = None) -> np.ndarray:
    """Forecast PV power (W, + generation) per interval starting at times_utc.

    history_times / history_pv_w: measured PV power (W) per interval before the forecast (NaN
    allowed for gaps). Without history the clear-sky power times `default_ratio` is returned.
    """
    t = utc_seconds(times_utc)
    cs = clear_sky_pv_w(t, site, interval_s)
    ht, hp = coarsen(utc_seconds(history_times), np.asarray(history_pv_w, dtype=float))
    ratio = _learned_ratio(t, site, ht, hp,
                           days, half_life_days, default_ratio, recent_h, persistence_tau_h, prior_weight_wh)
    return np.clip(cs * ratio, 0.0, site.peak_w)


def _learned_ratio(t: np.ndarray, site: PvSite, ht: np.ndarray, hp: np.ndarray, days: float,
                   half_life_days: float, default_ratio: float, recent_h: float, tau_h: float,
                   prior_weight_wh: float | None) -> np.ndarray:
    if ht.size == 0 or site.peak_w <= 0:
        return np.full(t.shape, default_ratio)
    end = ht.max() + step_s(ht, 0.0)
    keep = (ht >= end - days * 86400) & np.isfinite(hp)
    ht, hp = ht[keep], np.clip(hp[keep], 0.0, None)
    cs_h = clear_sky_pv_w(ht, site)
    sunny = cs_h > 0.05 * site.peak_w * site.derate          # low sun: ratios are noise
    ht, hp, cs_h = ht[sunny], hp[sunny], cs_h[sunny]
    if ht.size == 0:
        return np.full(t.shape, default_ratio)
    w = 0.5 ** ((end - ht) / 86400.0 / half_life_days)
    prior = prior_weight_wh if prior_weight_wh is not None else 0.5 * site.peak_w   # ~ half a sunny hour
    overall = (np.sum(w * hp) + prior * default_ratio) / (np.sum(w * cs_h) + prior)
    slot = _solar_hour(ht, site.longitude_deg)
    num = np.bincount(slot, w * hp, minlength=24)
    den = np.bincount(slot, w * cs_h, minlength=24)
    by_slot = (num + prior * overall) / (den + prior)
    ratio = by_slot[_solar_hour(t, site.longitude_deg)]
    recent = ht >= end - recent_h * 3600
    if recent.any() and tau_h > 0:
        now_ratio = (np.sum(hp[recent]) + prior * overall) / (np.sum(cs_h[recent]) + prior)
        lead_h = np.clip((t - end) / 3600.0, 0.0, None)
        ratio = ratio + (now_ratio - ratio) * np.exp(-lead_h / tau_h)
    return np.clip(ratio, 0.0, 1.5)
