"""Load profile learning and price forecasts."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hems.config import TariffConfig, TouPeriod
from hems.forecast import (as_datetime64, dayahead_known_until, default_load_profile_w, load_forecast_w,
                           load_prices_csv, price_forecast, price_lookup, utc_seconds)

PARIS = ZoneInfo("Europe/Paris")


def synthetic_load_w(times: np.ndarray) -> np.ndarray:
    """Weekdays: 300 W, 1500 W from 18:00 to 20:00 local; weekends: 600 W all day."""
    out = []
    for s in utc_seconds(times):
        local = datetime.fromtimestamp(s, PARIS)
        if local.weekday() >= 5:
            out.append(600.0)
        else:
            out.append(1500.0 if 18 <= local.hour < 20 else 300.0)
    return np.array(out)


def grid(start: datetime, hours: float, step_min: int = 15) -> np.ndarray:
    return as_datetime64([start + timedelta(minutes=step_min * k) for k in range(int(hours * 60 / step_min))])


def test_load_profile_learns_a_daily_pattern_with_defaults():
    hist = grid(datetime(2024, 3, 4, tzinfo=timezone.utc), 14 * 24, step_min=30)       # two weeks
    future = grid(datetime(2024, 3, 18, tzinfo=timezone.utc), 48)                      # Monday, Tuesday
    f = load_forecast_w(future, "Europe/Paris", hist, synthetic_load_w(hist))
    truth = synthetic_load_w(future)
    assert np.abs(f - truth).mean() < 40
    evening = truth == 1500
    assert f[evening].min() > 1200 and f[~evening].max() < 450


def test_load_profile_learns_weekday_and_weekend_across_dst():
    # a home that lives by the week: with a longer memory the day types separate cleanly
    hist = grid(datetime(2024, 2, 26, tzinfo=timezone.utc), 6 * 7 * 24, step_min=30)   # 6 weeks, DST on 31 March
    future = grid(datetime(2024, 4, 8, tzinfo=timezone.utc), 7 * 24)                   # a whole week after it
    f = load_forecast_w(future, "Europe/Paris", hist, synthetic_load_w(hist), half_life_days=14, prior_days=0.5)
    truth = synthetic_load_w(future)
    assert np.abs(f - truth).max() < 120
    assert np.abs(f - truth).mean() < 15


def test_load_profile_ignores_gaps_and_defaults_without_history():
    future = grid(datetime(2024, 4, 8, tzinfo=timezone.utc), 24)
    default = load_forecast_w(future, "Europe/Paris")
    assert default.shape == (96,) and 300 < default.mean() < 500 and default.min() > 0
    assert default_load_profile_w(1000.0).mean() == pytest.approx(1000.0)
    hist = grid(datetime(2024, 3, 25, tzinfo=timezone.utc), 14 * 24)
    load = synthetic_load_w(hist)
    load[::3] = np.nan
    f = load_forecast_w(future, "Europe/Paris", hist, load)
    assert np.all(np.isfinite(f))
    assert np.abs(f - synthetic_load_w(future)).mean() < 60


def test_load_forecast_carries_the_last_hour_forward_briefly():
    hist = grid(datetime(2024, 3, 4, tzinfo=timezone.utc), 4 * 7 * 24)
    load = synthetic_load_w(hist)
    load[-4:] += 2000.0                                                   # the oven is on
    future = grid(datetime.fromtimestamp(utc_seconds(hist)[-1] + 900, timezone.utc), 24)
    f = load_forecast_w(future, "Europe/Paris", hist, load)
    base = synthetic_load_w(future)
    assert f[0] - base[0] > 1000
    assert abs(f[16] - base[16]) < 50                                     # four hours later: gone


DYNAMIC = TariffConfig(kind="dynamic", import_markup_per_kwh=0.15, export="spot")


def test_price_forecast_uses_published_prices_and_forecasts_beyond():
    start = datetime(2024, 5, 6, tzinfo=timezone.utc)
    known = grid(start, 7 * 24, step_min=60)
    hours = (utc_seconds(known) // 3600 + 2) % 24                         # local hour in Amsterdam (CEST)
    spot = 0.05 + 0.10 * (hours >= 17) * (hours < 21) + np.random.default_rng(1).normal(0, 0.001, len(known))
    times = grid(start + timedelta(days=6), 48)                           # 24 h published, 24 h not
    imp, exp = price_forecast(times, DYNAMIC, known, spot, tz="Europe/Amsterdam")
    ts, kt = utc_seconds(times), utc_seconds(known)
    published = ts < kt[-1] + 3600
    assert published.sum() == 96
    idx = np.searchsorted(kt, ts[published], side="right") - 1
    assert np.array_equal(exp[published], spot[idx])                      # exactly the published price
    assert np.allclose(imp - exp, 0.15)
    beyond = (ts // 3600 + 2) % 24
    expected = 0.05 + 0.10 * (beyond >= 17) * (beyond < 21)
    assert np.allclose(exp[~published], expected[~published], atol=0.003)


def test_price_forecast_fixed_feed_in_and_no_prices():
    times = grid(datetime(2024, 5, 6, tzinfo=timezone.utc), 24)
    tariff = TariffConfig(kind="dynamic", import_markup_per_kwh=0.1, export="fixed", export_price_per_kwh=0.07)
    imp, exp = price_forecast(times, tariff, [], [])
    assert np.all(exp == 0.07) and np.all(imp == 0.1)
    known = as_datetime64([datetime(2024, 5, 6, h, tzinfo=timezone.utc) for h in range(24)])
    lookup = price_lookup(tariff, known, np.arange(24) / 100, tz="Europe/Paris")
    assert lookup(datetime(2024, 5, 6, 5, 30, tzinfo=timezone.utc)) == pytest.approx((0.15, 0.07))
    fixed = TariffConfig(kind="fixed", import_price_per_kwh=0.3, export_price_per_kwh=0.08)
    imp, exp = price_forecast(times, fixed)
    assert np.all(imp == 0.3) and np.all(exp == 0.08)


def test_time_of_use_in_local_time_with_a_period_past_midnight():
    periods = (TouPeriod(days=tuple(range(7)), start=time(7), end=time(23), price_per_kwh=0.30),
               TouPeriod(days=tuple(range(7)), start=time(23), end=time(7), price_per_kwh=0.18))
    tariff = TariffConfig(kind="tou", export_price_per_kwh=0.05, periods=periods)
    for day in (datetime(2024, 1, 15), datetime(2024, 7, 15)):             # winter (UTC+1) and summer (UTC+2)
        local = [datetime(day.year, day.month, day.day, h, 30, tzinfo=PARIS) for h in range(24)]
        imp, exp = price_forecast(as_datetime64(local), tariff, tz="Europe/Paris")
        assert list(imp) == [0.18] * 7 + [0.30] * 16 + [0.18]
        assert np.all(exp == 0.05)


def test_dayahead_publication():
    before = datetime(2024, 5, 6, 10, 0, tzinfo=timezone.utc)             # 12:00 in Amsterdam
    after = datetime(2024, 5, 6, 11, 30, tzinfo=timezone.utc)             # 13:30
    assert dayahead_known_until(before) == datetime(2024, 5, 6, 22, 0, tzinfo=timezone.utc)
    assert dayahead_known_until(after) == datetime(2024, 5, 7, 22, 0, tzinfo=timezone.utc)


def test_price_csv_loader_converts_per_mwh(tmp_path: Path):
    p = tmp_path / "prices.csv"
    p.write_text("time_utc,price_eur_per_mwh\n2024-01-01 01:00:00+00:00,80.5\n2024-01-01 00:00:00+00:00,-12\n")
    times, price = load_prices_csv(p)
    assert list(times) == list(np.array(["2024-01-01T00:00", "2024-01-01T01:00"], dtype="datetime64[s]"))
    assert np.allclose(price, [-0.012, 0.0805])
    p.write_text("time_utc,price_eur_per_mwh\n2024-01-01 01:00:00+01:00,80.5\n")
    with pytest.raises(ValueError, match="not UTC"):
        load_prices_csv(p)
