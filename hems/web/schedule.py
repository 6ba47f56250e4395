"""The weekly departure schedule: pure functions from a schedule and a time to the next trip.

A schedule maps weekday names (mon..sun) to {"departure": "HH:MM", "target_soc_pct": float}
or None (no trip that day). Times are local wall-clock times in the site's time zone.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


def to_weekly(schedule: dict[str, Any]) -> dict[int, tuple[time, float]]:
    """mon..sun schedule -> {weekday: (local time, target %)} as the agent keeps it."""
    return {
        i: (parse_hhmm(entry["departure"]), float(entry["target_soc_pct"]))
        for i, day in enumerate(DAYS)
        if (entry := schedule.get(day))
    }


def from_weekly(weekly: dict[int, tuple[time, float]]) -> dict[str, Any]:
    return {
        day: ({"departure": weekly[i][0].strftime("%H:%M"), "target_soc_pct": float(weekly[i][1])}
              if i in weekly else None)
        for i, day in enumerate(DAYS)
    }
