"""The PV planes of a site, and what leaves the home: coordinates rounded to about 1 km."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DERATE = 0.85           # temperature, wiring and inverter losses at 1000 W/m2 (as the clear-sky model)


@dataclass(frozen=True)
class Plane:
    peak_w: float
    tilt_deg: float
    azimuth_deg: float   # compass, 180 = south

    @property
    def azimuth_from_south_deg(self) -> float:
        """-180..180 with 0 = south, -90 = east, 90 = west (Open-Meteo, Forecast.Solar)."""
        a = (self.azimuth_deg - 180.0) % 360.0
        return a - 360.0 if a > 180.0 else a


def site_planes(site: Any) -> list[Plane]:
    """[[site.pv_planes]], or the one plane of pv_peak_w / pv_tilt_deg / pv_azimuth_deg."""
    if site.pv_planes:
        return [Plane(p.peak_w, p.tilt_deg, p.azimuth_deg) for p in site.pv_planes if p.peak_w > 0]
    return [Plane(site.pv_peak_w, site.pv_tilt_deg, site.pv_azimuth_deg)] if site.pv_peak_w > 0 else []


def rounded_location(latitude: float, longitude: float) -> tuple[float, float]:
    """Two decimals: about 1.1 km north-south, enough for a weather grid of 1-11 km."""
    return round(latitude, 2), round(longitude, 2)
