"""The car's comings and goings, kept in the store's event log, and the habits learned from them.

The agent logs each plug-in and unplug as an event of kind `car` ("plugged in at 42 %",
"unplugged at 80 %", or without the level when none is known). `absences` pairs them back into
trips; `expected_away` learns the weekday habits (hems.forecast.habits) from the last weeks and
says which absences it expects over a horizon, and how likely the car is plugged in per interval.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol, Sequence
from zoneinfo import ZoneInfo

from hems.domain.soc import SocKnowledge
from hems.forecast.habits import Absence, ExpectedAbsence, availability, expected_absences, learn

KIND = "car"
_LEVEL = re.compile(r" at (\d+(?:\.\d+)?) %$")
MAX_EVENTS = 5000


class EventLog(Protocol):
    def add_event(self, kind: str, message: str, who: str = "agent", at: datetime | None = None) -> None: ...
    def events(self, since: datetime | None = None, limit: int = 100,
               kind: str | None = None) -> list[dict[str, Any]]: ...


def plug_message(plugged: bool, known: SocKnowledge | None) -> str:
    words = "plugged in" if plugged else "unplugged"
    return words if known is None else f"{words} at {known.soc_pct:.0f} %"


def log_plug(log: EventLog | None, plugged: bool, level_before: SocKnowledge | None,
             level_now: SocKnowledge | None, at: datetime) -> None:
    """The car came (with the level now known, if any) or went (with the level it left with)."""
    if log is not None:
        log.add_event(KIND, plug_message(plugged, level_now if plugged else level_before), at=at)


def _level(message: str) -> float | None:
    m = _LEVEL.search(message)
    return float(m.group(1)) if m else None


def absences(events: Iterable[dict[str, Any]]) -> list[Absence]:
    """Unplugged -> plugged in pairs, oldest first, from `car` events (any order)."""
    out, left = [], None
    for e in sorted(events, key=lambda e: e["at"]):
        message = str(e["message"])
        if message.startswith("unplugged"):
            left = e
        elif message.startswith("plugged in") and left is not None:
            out.append(Absence(left["at"], e["at"], _level(left["message"]), _level(message)))
            left = None
    return out


def expected_away(log: EventLog | None, now: datetime, times: Sequence[datetime], interval_s: int,
                  tz: ZoneInfo, weeks: int = 4) -> tuple[list[ExpectedAbsence], list[float]]:
    """(the absences the habits expect over `times`, the probability per interval that the car is
    plugged in). No history: none expected, and 1.0 (no habit says otherwise) per interval."""
    if log is None or not times:
        return [], [1.0] * len(times)
    since = now - timedelta(weeks=weeks)
    trips = absences(log.events(since=since, limit=MAX_EVENTS, kind=KIND))
    if not trips:
        return [], [1.0] * len(times)
    habits = learn(trips, tz, weeks)
    until = times[-1] + timedelta(seconds=interval_s)
    expected = expected_absences(now, until, habits, tz)
    return expected, availability(times, interval_s, expected)
