"""PvFeed: the PV forecast from a weather provider, corrected by what the array really made.

The loop calls `tick()`; the planner's worker thread calls `view()`. Where the provider has
nothing (beyond its horizon, before the first fetch, after long failures) the learned clear-sky
forecast the caller passes in fills the gap. `on_update` is called when a new forecast arrived.
"""
from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import aiohttp
import numpy as np

from hems.forecast.timeutil import step_s, utc_seconds
from hems.sources.base import PvSource
from hems.sources.cache import SeriesCache
from hems.sources.errors import SourceError
from hems.sources.fetcher import FetchLog
from hems.sources.pvmodel import correction_ratio
from hems.sources.series import Series, SeriesError, on_grid

log = logging.getLogger("hems.sources")
KEEP_DAYS = 15
FALLBACK = "clearsky"


class PvFeed:
    live = True

    def __init__(self, source: PvSource, clock: Any, *, longitude_deg: float, peak_w: float,
                 cache: SeriesCache | None = None) -> None:
        self.source, self.clock, self.cache = source, clock, cache
        self.name = source.name
        self.longitude_deg, self.peak_w = longitude_deg, peak_w
        self.fetch_log = FetchLog(self.name)
        self.on_update: Callable[[], None] | None = None
        self._calls: deque[datetime] = deque()
        self._known: Series = (cache.load() if cache is not None else None) or Series.empty(self.name)

    def _budget_next(self, now: datetime) -> datetime | None:
        """When the daily quota allows the next call (None: now)."""
        limit = getattr(self.source, "max_calls_per_day", 0)
        while self._calls and self._calls[0] <= now - timedelta(days=1):
            self._calls.popleft()
        if limit and len(self._calls) >= limit:
            return self._calls[0] + timedelta(days=1)
        return None

    async def tick(self, session: aiohttp.ClientSession) -> bool:
        now = self.clock.now()
        if not self.fetch_log.due(now):
            return False
        later = self._budget_next(now)
        if later is not None:
            self.fetch_log.next_at = later
            log.info("%s: daily quota used, next call at %s", self.name, later.isoformat())
            return False
        self._calls.append(now)
        try:
            await self.fetch_once(session, now)
        except SourceError as err:
            self.fetch_log.failed(err, now)
            return False
        self.fetch_log.succeeded(now, now + timedelta(seconds=self.source.min_refresh_s))
        if self.cache is not None:
            try:
                self.cache.save(self._known, now)
            except OSError as exc:
                log.warning("%s: cannot write the forecast cache: %s", self.name, exc)
        if self.on_update is not None:
            self.on_update()
        return True

    async def fetch_once(self, session: aiohttp.ClientSession, now: datetime) -> None:
        """One call to the provider, kept in memory. Raises SourceError."""
        try:
            fresh = check_pv(await self.source.fetch(session, now), self.peak_w)
        except SeriesError as exc:
            raise SourceError(self.name, "malformed", str(exc)) from None
        self._known = self._known.merged(fresh, keep_from_s=(now - timedelta(days=KEEP_DAYS)).timestamp())

    def view(self, times: Any, now: datetime, fallback_w: np.ndarray, hist_times: Any = (),
             hist_pv_w: Any = ()) -> tuple[np.ndarray, list[str]]:
        """(PV W per interval, where each value came from: the provider or "clearsky")."""
        t = utc_seconds(times)
        step = step_s(t, 900.0)
        known = self._known
        weather, cov = on_grid(known, t, step)
        ht = utc_seconds(hist_times)
        ratio = np.ones(t.shape)
        if ht.size:
            past, _ = on_grid(known, ht, step_s(ht, 900.0))
            ratio = correction_ratio(t, self.longitude_deg, ht, np.asarray(hist_pv_w, dtype=float), past,
                                     peak_w=self.peak_w)
        pv = np.where(cov, np.clip(np.nan_to_num(weather) * ratio, 0.0, self.peak_w), fallback_w)
        return pv, [self.name if c else FALLBACK for c in cov]

    def forecast_w(self, times: Any, now: datetime, fallback_w: np.ndarray, hist_times: Any = (),
                   hist_pv_w: Any = ()) -> np.ndarray:
        return self.view(times, now, fallback_w, hist_times, hist_pv_w)[0]

    def status(self) -> dict[str, object]:
        now = self.clock.now()
        k = self._known
        until = datetime.fromtimestamp(k.end_s, timezone.utc) if len(k) else None
        return {"kind": "pv", "source": self.name, "known_until": until.isoformat() if until else None,
                "stale": until is None or until < now + timedelta(hours=12), **self.fetch_log.status()}


def check_pv(s: Series, peak_w: float) -> Series:
    """Refuse a forecast no array of this size can make (a unit error: kW for W)."""
    if len(s) and (s.value < 0).any():
        raise SourceError(s.source, "malformed", "negative PV power")
    if len(s) and peak_w > 0 and (s.value > 1.5 * peak_w).any():
        raise SourceError(s.source, "malformed", f"PV power {s.value.max():g} W above 1.5 x the peak {peak_w:g} W")
    return s
