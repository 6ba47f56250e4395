"""When the car leaves next and how full it must be: from the owner's dated trips or the weekly schedule."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from hems.domain import EvSession

Weekly = dict[int, tuple[time, float]]        # weekday (0 = Monday, local) -> (local time, target %)


class TripError(ValueError):
    """A trip the owner cannot ask for; the message says why in plain words."""


def check_departure(departure: datetime, now: datetime, tz: ZoneInfo) -> None:
    """Refuse a departure that is not in the future, naming it in local time."""
    if departure.tzinfo is None:
        raise TripError("the departure needs a time zone")
    if departure <= now:
        local = departure.astimezone(tz)
        raise TripError(f"the departure {local:%a %d %b %H:%M} is in the past")


def local_departure(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local calendar day and wall-clock time as aware UTC.

    On the day clocks go forward a time in the missing hour moves one hour later (02:30 -> 03:30);
    on the day they go back the first of the two 02:30s is meant.
    """
    naive = datetime.combine(day, at)
    local = naive.replace(tzinfo=tz, fold=0)
    back = local.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != naive:               # a time that does not exist that day
        local = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return local.astimezone(timezone.utc)


def weekly_trips(now: datetime, tz: ZoneInfo, weekly: Weekly, days: int = 8) -> list[EvSession]:
    """The weekly schedule's departures after `now` over the next `days` local days."""
    local_now = now.astimezone(tz)
    out = []
    for offset in range(days):
        day = local_now.date() + timedelta(days=offset)
        entry = weekly.get(day.weekday())
        if entry is None:
            continue
        leave = local_departure(day, entry[0], tz)
        if leave > now:
            out.append(EvSession(departure=leave, target_soc_pct=entry[1]))
    return out


def upcoming_trips(now: datetime, tz: ZoneInfo, weekly: Weekly, one_off: Iterable[EvSession] = (),
                   days: int = 8) -> list[EvSession]:
    """Every departure after `now` in time order: dated trips, and the weekly schedule on the days
    that have no dated trip (a dated trip replaces that day's weekly departure)."""
    dated = sorted((t for t in one_off if t.departure > now), key=lambda t: t.departure)
    dated_days = {t.departure.astimezone(tz).date() for t in dated}
    regular = [t for t in weekly_trips(now, tz, weekly, days)
               if t.departure.astimezone(tz).date() not in dated_days]
    return sorted(dated + regular, key=lambda t: t.departure)


def next_departure(now: datetime, tz: ZoneInfo, weekly: Weekly,
                   override: EvSession | Iterable[EvSession] | None = None) -> EvSession | None:
    """The next trip after `now`: the earliest of the dated trips and the weekly schedule."""
    if override is None:
        dated: Iterable[EvSession] = ()
    elif isinstance(override, EvSession):
        dated = (override,)
    else:
        dated = override
    trips = upcoming_trips(now, tz, weekly, dated)
    return trips[0] if trips else None
