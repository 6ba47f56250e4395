"""When to fetch next: pure functions of the clock, what is known and what went wrong.

Prices: the day-ahead auction results appear around 12:45 CET (`publish_at`, market time).
Before that, one fetch at publication time; after it, while tomorrow is missing, poll with a
growing wait (5, 10, 20, 40, 60 min...). Once tomorrow is known: next day at publication time.
Errors wait by kind: a refused token or a wrong zone needs a person (6 h), a rate limit waits at
least what the provider asked (Retry-After), anything transient backs off 1, 2, 4 ... 60 min.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hems.sources.errors import SourceError

MIN_WAIT_S = 60.0
MAX_WAIT_S = 3600.0
NEEDS_PERSON_S = 6 * 3600.0
NOT_YET_FIRST_S = 300.0


def backoff_s(attempt: int, first_s: float = MIN_WAIT_S, cap_s: float = MAX_WAIT_S) -> float:
    """first_s x 2^attempt, at most cap_s (attempt 0 = first retry)."""
    return min(cap_s, first_s * 2.0 ** max(0, min(attempt, 30)))


def wait_after_error(err: SourceError, failures: int) -> float:
    """Seconds to wait after `failures` failures in a row, the last being `err`."""
    if err.kind in ("auth", "not_found", "mismatch"):
        return NEEDS_PERSON_S
    if err.kind == "not_published":
        wait = backoff_s(failures - 1, NOT_YET_FIRST_S)
    elif err.kind == "rate_limited":
        wait = max(backoff_s(failures - 1, 15 * 60.0), 15 * 60.0)
    else:
        wait = backoff_s(failures - 1)
    if err.retry_after_s is not None:
        wait = max(wait, min(err.retry_after_s, 24 * 3600.0))
    return wait


def market_day_end(now: datetime, market_tz: ZoneInfo, days_ahead: int) -> datetime:
    """Midnight (market time) `days_ahead` days after today's start, as UTC."""
    local = now.astimezone(market_tz)
    return datetime.combine(local.date() + timedelta(days=days_ahead), time(0), market_tz).astimezone(timezone.utc)


def publication(now: datetime, market_tz: ZoneInfo, publish_at: time, days_ahead: int = 0) -> datetime:
    local = now.astimezone(market_tz)
    return datetime.combine(local.date() + timedelta(days=days_ahead), publish_at, market_tz).astimezone(timezone.utc)


def next_price_fetch(now: datetime, known_end: datetime | None, market_tz: ZoneInfo, publish_at: time,
                     not_yet_polls: int) -> datetime:
    """After a successful fetch: when to look again. not_yet_polls: fetches since publication
    time that still lacked tomorrow."""
    if known_end is not None and known_end >= market_day_end(now, market_tz, 2):
        return publication(now, market_tz, publish_at, 1)          # tomorrow is known
    pub = publication(now, market_tz, publish_at)
    if known_end is None or known_end < market_day_end(now, market_tz, 1):
        return now + timedelta(seconds=backoff_s(not_yet_polls, NOT_YET_FIRST_S))   # even today is missing
    if now < pub:
        return pub
    return now + timedelta(seconds=backoff_s(not_yet_polls, NOT_YET_FIRST_S))
