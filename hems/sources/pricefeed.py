"""PriceFeed: the one object the planner asks for prices. It owns a price source (or the CSV),
its disk cache and its fetch schedule, and turns spot prices into import/export prices with
the tariff formula; beyond what is published, the statistical spot forecast fills in.

The loop calls `tick()` (fetches when due); the planner's worker thread calls `view()`.
`on_update` is called (on the loop) when a fetch brought new prices: the agent replans.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np

from hems.forecast.prices import dayahead_known_until, spot_price_forecast
from hems.forecast.timeutil import step_s, utc_seconds
from hems.sources.base import PriceSource
from hems.sources.cache import SeriesCache
from hems.sources.errors import SourceError
from hems.sources.fetcher import FetchLog
from hems.sources.schedule import market_day_end, next_price_fetch, publication
from hems.sources.series import Series, SeriesError, on_grid
from hems.sources.tariff import describe, import_export_per_kwh

log = logging.getLogger("hems.sources")
KEEP_DAYS = 35                 # the spot forecast learns from the last 14 days; keep a margin
MAX_ABS_PRICE_PER_KWH = 10.0   # EPEX caps are -0.5 and +4 EUR/kWh: beyond is a unit error
# when each market publishes tomorrow (local market time)
PUBLISH = {"octopus": ("Europe/London", time(16, 15))}
DEFAULT_PUBLISH = ("Europe/Brussels", time(13, 0))
ESTIMATE = "estimate"


@dataclass(frozen=True)
class PriceView:
    """Prices per planner interval, and where each came from (a source name or "estimate")."""
    import_per_kwh: np.ndarray
    export_per_kwh: np.ndarray
    spot_per_kwh: np.ndarray
    source: list[str]
    known_until: datetime | None
    note: str                        # e.g. "prices known until Tue 24:00, estimated after"


class PriceFeed:
    def __init__(self, tariff: Any, site_tz: str, clock: Any, *, source: PriceSource | None = None,
                 static: Series | None = None, cache: SeriesCache | None = None, jitter_s: float = 0.0) -> None:
        """source: a live provider (fetched, cached); static: a CSV series revealed day by day as
        the market would publish it. Exactly one of the two. jitter_s: this home's delay after the
        publication time, so that not every home asks at the same second."""
        if (source is None) == (static is None):
            raise ValueError("a PriceFeed needs a source or a static series")
        self.tariff, self.tz, self.clock = tariff, ZoneInfo(site_tz), clock
        self.source, self.static, self.cache = source, static, cache
        self.name = source.name if source is not None else "csv"
        self.market_tz, self.publish_at = (ZoneInfo(PUBLISH.get(self.name, DEFAULT_PUBLISH)[0]),
                                           PUBLISH.get(self.name, DEFAULT_PUBLISH)[1])
        if jitter_s:
            shifted = datetime.combine(datetime(2000, 1, 1), self.publish_at) + timedelta(seconds=jitter_s)
            self.publish_at = shifted.time()
        self.fetch_log = FetchLog(self.name)
        self._not_yet_polls = 0
        self.on_update: Callable[[], None] | None = None
        loaded = cache.load() if cache is not None else None
        self._known: Series = static if static is not None else (loaded or Series.empty(self.name))
        self._quarters_for: tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def set_tariff(self, tariff: Any) -> None:
        """The owner changed the tariff: the formula applies to the next view."""
        self.tariff = tariff

    @property
    def live(self) -> bool:
        """True when this feed fetches (not a CSV)."""
        return self.source is not None

    # -- fetching (on the loop) --
    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) to ask for: today and tomorrow, plus two weeks back while the cache is thin."""
        start = market_day_end(now, self.tz, 0)
        k = self._known
        if len(k) == 0 or k.start_s[0] > (now - timedelta(days=7)).timestamp():
            start -= timedelta(days=14)
        return start, market_day_end(now, self.tz, 2)

    async def tick(self, session: aiohttp.ClientSession) -> bool:
        """Fetch if due; True when new prices arrived (then on_update has been called)."""
        now = self.clock.now()
        if self.source is None or not self.fetch_log.due(now):
            return False
        start, end = self.window(now)
        try:
            changed = await self.fetch_now(session, start, end, now)
        except SourceError as err:
            self.fetch_log.failed(err, now)
            return False
        known_end = self._known_end()
        tomorrow_known = known_end is not None and known_end >= market_day_end(now, self.market_tz, 2)
        if tomorrow_known or now < publication(now, self.market_tz, self.publish_at):
            self._not_yet_polls = 0
        else:
            self._not_yet_polls += 1
        self.fetch_log.succeeded(now, next_price_fetch(now, known_end, self.market_tz, self.publish_at,
                                                       max(0, self._not_yet_polls - 1)))
        if changed:
            log.info("%s: prices known until %s", self.name, _fmt(known_end, self.tz))
            if self.on_update is not None:
                self.on_update()
        return changed

    async def fetch_now(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime,
                        save: bool = True) -> bool:
        """Fetch [start, end) and keep it; True when it changed what is known. Raises SourceError."""
        if self.source is None:
            return False
        try:
            fresh = check_prices(await self.source.fetch(session, start, end, now))
        except SeriesError as exc:         # overlapping or non-finite intervals from a provider module
            raise SourceError(self.name, "malformed", str(exc)) from None
        old = self._known
        merged = old.merged(fresh, keep_from_s=(now - timedelta(days=KEEP_DAYS)).timestamp())
        changed = not _same(old, merged)
        self._known = merged
        if changed and save and self.cache is not None:
            try:
                self.cache.save(merged, now)
            except OSError as exc:
                log.warning("%s: cannot write the price cache: %s", self.name, exc)
        return changed

    def _known_end(self) -> datetime | None:
        k = self._known
        return datetime.fromtimestamp(k.end_s, timezone.utc) if len(k) else None

    # -- reading (any thread) --
    def visible(self, now: datetime) -> Series:
        """What is known at `now` (the CSV only up to what the market has published by then)."""
        k = self._known
        if self.static is not None:
            horizon = dayahead_known_until(now, self.market_tz)
            return k.window(-math.inf, horizon.timestamp())
        return k

    def view(self, times: Any, now: datetime) -> PriceView:
        t = utc_seconds(times)
        step = step_s(t, 900.0)
        known = self.visible(now)
        qt, qv, qi = self._quarters(known)
        spot_known, cov = on_grid(known, t, step)
        spot = np.where(cov, spot_known, spot_price_forecast(t, qt, qv, tz=self.tz))
        retail = None
        if known.has_import:
            imp_known, cov_i = on_grid(known, t, step, imports=True)
            ok = np.isfinite(qi)
            retail = np.where(cov_i, imp_known, spot_price_forecast(t, qt[ok], qi[ok], tz=self.tz))
        imp, exp = import_export_per_kwh(t, spot, self.tariff, self.tz, retail)
        labels = [self.name if c else ESTIMATE for c in cov]
        until = datetime.fromtimestamp(known.end_s, timezone.utc) if len(known) else None
        note = ""
        if not all(cov):
            note = (f"prices known until {_fmt(until, self.tz)}, estimated after" if until is not None
                    else "no prices known yet: estimated")
        return PriceView(imp, exp, spot, labels, until, note)

    def _quarters(self, known: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The known series as 15-min points (for the statistical forecast), cached per series."""
        cached = self._quarters_for
        key = id(known), len(known)
        if cached is not None and cached[0] == key:
            return cached[1]
        if len(known) == 0:
            out = (np.zeros(0), np.zeros(0), np.zeros(0))
        else:
            reps = np.maximum(1, np.round(known.length_s / 900.0)).astype(int)
            offs = np.concatenate([np.arange(r) * 900.0 for r in reps])
            qt = np.repeat(known.start_s, reps) + offs
            imp = known.import_value if known.has_import else np.full(len(known), np.nan)
            out = (qt, np.repeat(known.value, reps), np.repeat(imp, reps))
        self._quarters_for = (key, out)  # type: ignore[assignment]
        return out

    def status(self) -> dict[str, object]:
        now = self.clock.now()
        known = self.visible(now)
        until = datetime.fromtimestamp(known.end_s, timezone.utc) if len(known) else None
        return {"kind": "prices", "source": self.name, "known_until": until.isoformat() if until else None,
                "stale": until is None or until < market_day_end(now, self.tz, 1),
                "formula": describe(self.tariff), **self.fetch_log.status()}


def check_prices(s: Series) -> Series:
    """Refuse a series no tariff can have (a unit error, a day-long interval)."""
    bad = np.abs(s.value) > MAX_ABS_PRICE_PER_KWH
    if s.has_import:
        bad |= np.abs(np.nan_to_num(s.import_value)) > MAX_ABS_PRICE_PER_KWH
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise SourceError(s.source, "malformed", f"price {s.value[k]:g} per kWh is not plausible (unit?)")
    if len(s) and (s.length_s > 86400).any():
        raise SourceError(s.source, "malformed", "an interval longer than a day")
    return s


def _same(a: Series, b: Series) -> bool:
    return (len(a) == len(b) and np.array_equal(a.start_s, b.start_s) and np.array_equal(a.length_s, b.length_s)
            and np.array_equal(a.value, b.value))


def _fmt(t: datetime | None, tz: ZoneInfo) -> str:
    """'Tue 24:00' for midnight at the end of Tuesday, else 'Tue 13:15' (local time)."""
    if t is None:
        return "never"
    local = t.astimezone(tz)
    if local.hour == 0 and local.minute == 0:
        return f"{(local - timedelta(days=1)):%a} 24:00"
    return f"{local:%a %H:%M}"
