"""When the car leaves next and how full it must be: from the owner's wish or the weekly schedule."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hems.domain import EvSession


def next_departure(now: datetime, tz: ZoneInfo, weekly: dict[int, tuple[time, float]],
                   override: EvSession | None = None) -> EvSession | None:
    """The next trip after `now`.

    `weekly` maps weekday (0 = Monday, local time) to (local departure time, target SoC %); a
    missing day has no trip. An owner's one-off `override` wins while it is still ahead.
    """
    if override is not None and override.departure > now:
        return override
    local_now = now.astimezone(tz)
    for days in range(0, 8):
        day = (local_now + timedelta(days=days)).date()
        entry = weekly.get(day.weekday())
        if entry is None:
            continue
        leave_local = datetime.combine(day, entry[0], tzinfo=tz)
        if leave_local > local_now:
            return EvSession(departure=leave_local.astimezone(timezone.utc), target_soc_pct=entry[1])
    return None
