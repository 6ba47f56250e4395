"""Sun position, clear-sky irradiance and plane-of-array irradiance. Pure numpy.

Angles in degrees; irradiance in W/m2; azimuth measured clockwise from north (180 = south).
Solar position: NOAA's low-precision equations (Spencer's Fourier series for the declination
and the equation of time; about 0.1 deg for 1950-2050), enough for a PV power forecast.
Clear sky: Haurwitz global horizontal irradiance, split into beam and diffuse with Erbs'
diffuse-fraction correlation; isotropic sky for the tilted plane.
"""
from __future__ import annotations

import numpy as np

SOLAR_CONSTANT_W_M2 = 1367.0


def _day_angle(utc_s: np.ndarray) -> np.ndarray:
    """Fractional year (rad) as in the NOAA equations."""
    days = utc_s / 86400.0
    year_start = (days.astype("int64").astype("datetime64[D]").astype("datetime64[Y]")
                  .astype("datetime64[D]").astype("int64"))
    doy = days - year_start                      # 0 at Jan 1 00:00 UTC
    return 2 * np.pi / 365.0 * (doy - 0.5)       # NOAA: (doy - 1 + (hour - 12) / 24)


def solar_position(utc_s: np.ndarray, latitude_deg: float, longitude_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(zenith_deg, azimuth_deg) of the sun at each instant (unix seconds, UTC)."""
    utc_s = np.asarray(utc_s, dtype=float)
    g = _day_angle(utc_s)
    eqtime_min = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                           - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    minutes_utc = np.mod(utc_s, 86400.0) / 60.0
    true_solar_min = minutes_utc + eqtime_min + 4.0 * longitude_deg
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(latitude_deg)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    zenith = np.degrees(np.arccos(np.clip(cos_z, -1.0, 1.0)))
    az_from_south = np.arctan2(np.sin(hour_angle), np.cos(hour_angle) * np.sin(lat) - np.tan(decl) * np.cos(lat))
    azimuth = np.mod(np.degrees(az_from_south) + 180.0, 360.0)
    return zenith, azimuth


def extraterrestrial_w_m2(utc_s: np.ndarray) -> np.ndarray:
    """Normal irradiance at the top of the atmosphere (Earth-Sun distance correction)."""
    g = _day_angle(np.asarray(utc_s, dtype=float))
    return SOLAR_CONSTANT_W_M2 * (1.000110 + 0.034221 * np.cos(g) + 0.001280 * np.sin(g)
                                  + 0.000719 * np.cos(2 * g) + 0.000077 * np.sin(2 * g))


def clear_sky(utc_s: np.ndarray, zenith_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ghi, dni, dhi) in W/m2 under a clear sky; zero when the sun is down."""
    cos_z = np.cos(np.radians(zenith_deg))
    up = cos_z > 0.01
    cz = np.where(up, cos_z, 1.0)
    ghi = np.where(up, 1098.0 * cz * np.exp(-0.059 / cz), 0.0)
    kt = np.clip(ghi / (extraterrestrial_w_m2(utc_s) * cz), 0.0, 1.0)
    diffuse_fraction = np.where(kt <= 0.22, 1.0 - 0.09 * kt,
                                np.where(kt <= 0.80, 0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3
                                         + 12.336 * kt**4, 0.165))
    dhi = ghi * diffuse_fraction
    dni = np.where(up, (ghi - dhi) / cz, 0.0)
    return ghi, dni, dhi


def plane_of_array(ghi: np.ndarray, dni: np.ndarray, dhi: np.ndarray, zenith_deg: np.ndarray,
                   azimuth_deg: np.ndarray, tilt_deg: float, surface_azimuth_deg: float,
                   albedo: float = 0.2) -> np.ndarray:
    """Irradiance on a tilted plane (W/m2): beam + isotropic sky diffuse + ground reflection."""
    z, a = np.radians(zenith_deg), np.radians(azimuth_deg)
    b, s = np.radians(tilt_deg), np.radians(surface_azimuth_deg)
    cos_aoi = np.cos(z) * np.cos(b) + np.sin(z) * np.sin(b) * np.cos(a - s)
    beam = dni * np.clip(cos_aoi, 0.0, None)
    sky = dhi * (1 + np.cos(b)) / 2
    ground = ghi * albedo * (1 - np.cos(b)) / 2
    return beam + sky + ground
