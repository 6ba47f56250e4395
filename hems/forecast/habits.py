"""The car's habits learned from history (pure): when it leaves and comes back on each weekday,
and how much charge a trip uses.

Input is the list of past absences (the car unplugged, then plugged again) with the state of
charge at both ends where it was known. Output is one `DayHabit` per weekday that had trips, and
from those the car's expected availability over a horizon, with a confidence: the share of the
observed weeks on which that weekday had a trip.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Absence:
    left_at: datetime                    # unplugged (aware UTC)
    back_at: datetime                    # plugged again
    soc_left_pct: float | None = None
    soc_back_pct: float | None = None


@dataclass(frozen=True)
class DayHabit:
    weekday: int                         # 0 = Monday, local time
    probability: float                   # share of the observed weeks with a trip on this weekday
    leave: time                          # median local departure time
    away_s: float                        # median time away
    used_pct: float | None               # median charge used by a trip, when known
    trips: int


def _minutes(t: datetime) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def learn(absences: Sequence[Absence], tz: ZoneInfo, weeks: int, min_away_s: float = 1800.0) -> dict[int, DayHabit]:
    """Per weekday of departure: how likely a trip is and what it looks like.

    `weeks` is how many weeks of history were looked at (the denominator of the probability);
    absences shorter than `min_away_s` (a replug, a neighbour's quick visit) are not trips.
    """
    if weeks < 1:
        raise ValueError(f"weeks {weeks} must be >= 1")
    by_day: dict[int, list[Absence]] = {}
    for a in absences:
        if (a.back_at - a.left_at).total_seconds() < min_away_s:
            continue
        by_day.setdefault(a.left_at.astimezone(tz).weekday(), []).append(a)
    habits = {}
    for day, trips in by_day.items():
        first_per_date: dict[object, Absence] = {}
        for a in sorted(trips, key=lambda a: a.left_at):
            first_per_date.setdefault(a.left_at.astimezone(tz).date(), a)
        firsts = list(first_per_date.values())
        leave_min = round(statistics.median(_minutes(a.left_at.astimezone(tz)) for a in firsts))
        used = [a.soc_left_pct - a.soc_back_pct for a in trips
                if a.soc_left_pct is not None and a.soc_back_pct is not None]
        habits[day] = DayHabit(
            weekday=day, probability=min(1.0, len(firsts) / weeks),
            leave=time(int(leave_min // 60), int(leave_min % 60)),
            away_s=statistics.median((a.back_at - a.left_at).total_seconds() for a in firsts),
            used_pct=statistics.median(used) if used else None, trips=len(firsts))
    return habits


@dataclass(frozen=True)
class ExpectedAbsence:
    leave: datetime                      # aware UTC
    back: datetime
    probability: float
    used_pct: float | None


def expected_absences(now: datetime, until: datetime, habits: dict[int, DayHabit], tz: ZoneInfo,
                      min_probability: float = 0.5) -> list[ExpectedAbsence]:
    """The trips the habits expect between `now` and `until` (those likely enough)."""
    out = []
    day = now.astimezone(tz).date()
    while True:
        habit = habits.get(day.weekday())
        if habit is not None and habit.probability >= min_probability:
            leave = datetime.combine(day, habit.leave, tzinfo=tz).astimezone(now.tzinfo)
            back = leave + timedelta(seconds=habit.away_s)
            if back > now and leave < until:
                out.append(ExpectedAbsence(leave, back, habit.probability, habit.used_pct))
        day += timedelta(days=1)
        if datetime.combine(day, time(0), tzinfo=tz) >= until:
            return out


def availability(times: Sequence[datetime], interval_s: int, absences: Sequence[ExpectedAbsence]) -> list[float]:
    """Per interval, the probability that the car is plugged in (1 - the chance it is away)."""
    out = []
    step = timedelta(seconds=interval_s)
    for t in times:
        away = 0.0
        for a in absences:
            if a.leave < t + step and t < a.back:
                away = max(away, a.probability)
        out.append(1.0 - away)
    return out
