"""Vectorised local time agrees with zoneinfo, DST switches and year ends included."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hems.forecast.timeutil import as_datetime64, local_parts, utc_offset_s, utc_seconds


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"])
def test_offsets_match_zoneinfo_across_two_years(tz):
    start = datetime(2023, 12, 30, tzinfo=timezone.utc).timestamp()
    ts = np.arange(start, start + 400 * 86400, 7151.0)          # odd step: drifts through the day
    expected = np.array([datetime.fromtimestamp(x, ZoneInfo(tz)).utcoffset().total_seconds() for x in ts])
    assert np.array_equal(utc_offset_s(ts, tz), expected)


def test_local_parts_weekday_and_time_of_day():
    # 2024-03-31 00:30 UTC is 01:30 CET (Sunday); 01:30 UTC is 03:30 CEST, after the switch
    ts = utc_seconds(as_datetime64(np.array(["2024-03-31T00:30", "2024-03-31T01:30"], dtype="datetime64[s]")))
    _, weekday, sod = local_parts(ts, "Europe/Paris")
    assert list(weekday) == [6, 6]
    assert list(sod / 3600) == [1.5, 3.5]


def test_times_accept_aware_datetimes_and_datetime64():
    aware = [datetime(2024, 6, 1, 12, tzinfo=ZoneInfo("Europe/Paris"))]
    assert utc_seconds(aware)[0] == datetime(2024, 6, 1, 10, tzinfo=timezone.utc).timestamp()
    assert as_datetime64(aware)[0] == np.datetime64("2024-06-01T10:00:00")


def test_per_minute_history_is_learned_like_its_15_minute_means():
    from hems.forecast import load_forecast_w
    from hems.forecast.timeutil import coarsen

    start = datetime(2024, 5, 1, tzinfo=timezone.utc).timestamp()
    minutes = start + 60.0 * np.arange(14 * 1440)
    load = 300 + 200 * np.sin(minutes / 86400 * 2 * np.pi) + np.where((minutes // 60) % 7 == 0, 900.0, 0.0)
    load[::11] = np.nan
    bins, means = coarsen(minutes, load)
    assert np.all(np.diff(bins) == 900) and len(bins) == 14 * 96
    first = load[:15]
    assert means[0] == np.mean(first[np.isfinite(first)])
    future = start + 14 * 86400 + 900.0 * np.arange(96)
    a = load_forecast_w(future, "Europe/Paris", minutes, load)
    b = load_forecast_w(future, "Europe/Paris", bins, means)
    assert np.allclose(a, b)
