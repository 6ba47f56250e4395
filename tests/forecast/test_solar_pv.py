"""Sun position against known values, clear-sky PV, and the history-corrected PV forecast."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from hems.forecast import PvSite, as_datetime64, clear_sky_pv_w, pv_forecast_w, utc_seconds
from hems.forecast.solar import clear_sky, solar_position


def minutes_of(day: datetime) -> np.ndarray:
    return day.timestamp() + 60.0 * np.arange(1440)


@pytest.mark.parametrize("day, latitude, expected_elevation", [
    (datetime(2024, 6, 21, tzinfo=timezone.utc), 48.83, 90 - 48.83 + 23.44),     # summer solstice
    (datetime(2024, 12, 21, tzinfo=timezone.utc), 48.83, 90 - 48.83 - 23.44),    # winter solstice
    (datetime(2024, 3, 20, tzinfo=timezone.utc), 52.37, 90 - 52.37),             # equinox, Amsterdam
    (datetime(2024, 6, 21, tzinfo=timezone.utc), -33.87, 90 - 33.87 - 23.44),    # Sydney's winter
])
def test_solar_noon_elevation(day, latitude, expected_elevation):
    zenith, _ = solar_position(minutes_of(day), latitude, 0.0)
    assert 90 - zenith.min() == pytest.approx(expected_elevation, abs=0.3)


@pytest.mark.parametrize("day, noon_utc_min", [
    (datetime(2024, 11, 3, tzinfo=timezone.utc), 12 * 60 - 16.4),   # equation of time at its maximum
    (datetime(2024, 2, 11, tzinfo=timezone.utc), 12 * 60 + 14.2),   # ... and its minimum
])
def test_solar_noon_follows_the_equation_of_time(day, noon_utc_min):
    zenith, azimuth = solar_position(minutes_of(day), 51.48, 0.0)    # Greenwich
    assert int(np.argmin(zenith)) == pytest.approx(noon_utc_min, abs=1.5)
    assert azimuth[int(np.argmin(zenith))] == pytest.approx(180, abs=1.0)


def test_sun_rises_in_the_north_east_in_june():
    zenith, azimuth = solar_position(minutes_of(datetime(2024, 6, 21, tzinfo=timezone.utc)), 48.83, 6.86)
    sunrise = int(np.argmax(zenith < 90))
    assert 3 * 60 + 30 <= sunrise <= 4 * 60 + 15          # about 05:45 local summer time
    assert 45 < azimuth[sunrise] < 60


def test_clear_sky_is_zero_at_night_and_plausible_at_noon():
    t = minutes_of(datetime(2024, 6, 21, tzinfo=timezone.utc))
    zenith, _ = solar_position(t, 48.83, 6.86)
    ghi, dni, dhi = clear_sky(t, zenith)
    night = zenith > 90
    assert night.any() and np.all(ghi[night] == 0) and np.all(dni[night] == 0) and np.all(dhi[night] == 0)
    assert 850 < ghi.max() < 1000 and 700 < dni.max() < 1000 and dhi.max() < 200
    assert np.allclose(ghi, dni * np.cos(np.radians(np.minimum(zenith, 90))) + dhi, atol=1e-6)


def test_clear_sky_pv_follows_orientation():
    day = datetime(2024, 4, 15, tzinfo=timezone.utc)
    t = as_datetime64([day + timedelta(minutes=15 * k) for k in range(96)])
    south = clear_sky_pv_w(t, PvSite(48.83, 6.86, 6000, 35, 180))
    east = clear_sky_pv_w(t, PvSite(48.83, 6.86, 6000, 35, 90))
    west = clear_sky_pv_w(t, PvSite(48.83, 6.86, 6000, 35, 270))
    assert south[:12].max() == 0 and south[-8:].max() == 0      # nights (UTC 00-03, 22-24)
    assert 4000 < south.max() <= 6000
    peak = lambda p: int(np.argmax(p))  # noqa: E731
    assert peak(east) < peak(south) < peak(west)
    assert east.sum() < south.sum() and west.sum() < south.sum()


def _days(start: datetime, n_days: int, step_min: int = 30) -> np.ndarray:
    return as_datetime64([start + timedelta(minutes=step_min * k) for k in range(n_days * 1440 // step_min)])


def test_pv_forecast_learns_the_ratio_to_clear_sky():
    site = PvSite(48.83, 6.86, 5000, 35, 180)
    hist = _days(datetime(2024, 5, 1, tzinfo=timezone.utc), 14)
    truth_site = PvSite(48.83, 6.86, 5000, 35, 180)
    history_pv = 0.4 * clear_sky_pv_w(hist, truth_site)                    # a steadily hazy fortnight
    future = _days(datetime(2024, 5, 15, tzinfo=timezone.utc), 2)
    f = pv_forecast_w(future, site, hist, history_pv)
    expected = 0.4 * clear_sky_pv_w(future, truth_site)
    day = expected > 100
    assert np.allclose(f[day], expected[day], rtol=0.05)
    assert np.all(f[expected == 0] == 0)


def test_pv_forecast_corrects_a_wrong_orientation_guess():
    truth = PvSite(48.83, 6.86, 5000, 30, 240)                            # really south-west
    guess = PvSite(48.83, 6.86, 5000, 35, 180)                            # assumed south
    hist = _days(datetime(2024, 7, 1, tzinfo=timezone.utc), 14)
    future = _days(datetime(2024, 7, 15, tzinfo=timezone.utc), 1)
    actual = clear_sky_pv_w(future, truth)
    naive_error = np.abs(clear_sky_pv_w(future, guess) - actual).mean()
    learned_error = np.abs(pv_forecast_w(future, guess, hist, clear_sky_pv_w(hist, truth)) - actual).mean()
    assert learned_error < 0.4 * naive_error


def test_pv_forecast_persists_clouds_now_but_not_tomorrow():
    site = PvSite(48.83, 6.86, 5000)
    hist = _days(datetime(2024, 6, 1, tzinfo=timezone.utc), 14)
    pv = 0.8 * clear_sky_pv_w(hist, site)
    t = utc_seconds(hist)
    last_2h = t >= t[-1] - 2 * 3600 + 1
    issue = datetime(2024, 6, 14, 12, tzinfo=timezone.utc)                # history up to noon, dark since 10:00
    keep = t < issue.timestamp()
    pv[(t >= issue.timestamp() - 2 * 3600) & keep] = 0.1 * clear_sky_pv_w(hist, site)[
        (t >= issue.timestamp() - 2 * 3600) & keep]
    assert last_2h.any()
    future = _days(issue, 2)
    f = pv_forecast_w(future, site, hist[keep], pv[keep])
    cs = clear_sky_pv_w(future, site)
    assert f[0] / cs[0] < 0.35                                            # the next half hour: still dark
    tomorrow_noon = 48                                                    # 24 h later
    assert f[tomorrow_noon] / cs[tomorrow_noon] == pytest.approx(0.8, abs=0.1)


def test_pv_forecast_without_history_and_gaps():
    site = PvSite(48.83, 6.86, 5000)
    future = _days(datetime(2024, 6, 1, tzinfo=timezone.utc), 1)
    assert np.allclose(pv_forecast_w(future, site), 0.6 * clear_sky_pv_w(future, site))
    hist = _days(datetime(2024, 5, 25, tzinfo=timezone.utc), 7)
    pv = np.full(len(hist), np.nan)                                       # the logger was off
    assert np.all(np.isfinite(pv_forecast_w(future, site, hist, pv)))
    assert pv_forecast_w(future[:0], site, hist, pv).shape == (0,)
