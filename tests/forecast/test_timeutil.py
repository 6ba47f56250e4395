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
