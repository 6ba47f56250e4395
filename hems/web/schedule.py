"""The weekly departure schedule: pure functions from a schedule and a time to the next trip.

A schedule maps weekday names (mon..sun) to {"departure": "HH:MM", "target_soc_pct": float}
or None (no trip that day). Times are local wall-clock times in the site's time zone.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo

from hems.control.settings import DAYS, weekly_from_json as to_weekly, weekly_to_json as from_weekly

__all__ = ["DAYS", "from_weekly", "next_local", "parse_hhmm", "to_weekly"]


def parse_hhmm(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def next_local(hhmm: str, now: datetime, tz: tzinfo) -> datetime:
    """The next moment after `now` when the local clock shows hhmm, as aware UTC."""
    local_now = now.astimezone(tz)
    t = parse_hhmm(hhmm)
    for add_days in range(0, 3):
        day = (local_now + timedelta(days=add_days)).date()
        when = datetime.combine(day, t, tzinfo=tz)
        if when > local_now:
            return when.astimezone(timezone.utc)
    raise AssertionError("unreachable: a time of day recurs within two days")
