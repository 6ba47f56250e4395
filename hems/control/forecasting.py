"""Forecasts for the planner from the home's own history (the store) and its tariff.

The forecast models themselves are pure (hems.forecast); this module only fetches their inputs:
measured PV and house load from the store, published spot prices from the tariff's CSV (hidden
beyond what the day-ahead market has published at `now`), and a price curve an aggregator sent,
which wins where it covers the horizon.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from hems.config import Config
from hems.config.model import TariffConfig
from hems.forecast import (PvSite, dayahead_known_until, load_forecast_w, load_prices_csv,
                           price_forecast, pv_forecast_w, utc_seconds)

if TYPE_CHECKING:
    from hems.sources.pricefeed import PriceFeed, PriceView
    from hems.sources.pvfeed import PvFeed

log = logging.getLogger(__name__)
HISTORY_DAYS = 28
HISTORY_STEP_S = 900        # the forecasters work in 15-min steps; averaged in SQL, off the loop's way


class Forecaster:
    def __init__(self, cfg: Config, store: object | None, price_feed: PriceFeed | None = None,
                 pv_feed: PvFeed | None = None) -> None:
        """price_feed: a dynamic tariff's prices (live or CSV) with the tariff formula; pv_feed: a
        weather-based PV forecast (the learned clear-sky model stays the fallback)."""
        self.cfg = cfg
        self.store = store
        self.price_feed, self.pv_feed = price_feed, pv_feed
        self.site = PvSite.from_config(cfg.site)
        self.tz = cfg.site.timezone
        self._known: tuple[np.ndarray, np.ndarray] = (np.array([]), np.array([]))
        if price_feed is None and cfg.tariff.kind == "dynamic" and cfg.tariff.prices_csv is not None:
            self._known = load_prices_csv(cfg.tariff.prices_csv)
        self._lock = threading.Lock()
        self._curve: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None   # times s, import, export

    def set_tariff(self, tariff: TariffConfig) -> None:
        """The owner's tariff prices changed: the next forecast uses them."""
        self.cfg = replace(self.cfg, tariff=tariff)
        if self.price_feed is not None:
            self.price_feed.set_tariff(tariff)

    def set_price_curve(self, start: datetime, interval_s: int, import_price_per_kwh: list[float],
                        export_price_per_kwh: list[float]) -> None:
        """A price curve from the aggregator: used for the intervals it covers."""
        n = len(import_price_per_kwh)
        t0 = start.timestamp()
        with self._lock:
            self._curve = (t0 + interval_s * np.arange(n + 1, dtype=float),
                           np.asarray(import_price_per_kwh, float), np.asarray(export_price_per_kwh, float))

    def price_view(self, times: list[datetime], now: datetime) -> PriceView | None:
        """Prices with where each came from (None without a price feed)."""
        return self.price_feed.view(times, now) if self.price_feed is not None else None

    def prices(self, times: list[datetime], now: datetime) -> tuple[np.ndarray, np.ndarray]:
        if self.price_feed is not None:
            view = self.price_feed.view(times, now)
            return self._with_curve(times, view.import_per_kwh, view.export_per_kwh)
        known_t, known_p = self._known
        if len(known_t):
            horizon = np.datetime64(dayahead_known_until(now).replace(tzinfo=None), "s")
            mask = known_t < horizon
            known_t, known_p = known_t[mask], known_p[mask]
        imp, exp = price_forecast(times, self.cfg.tariff, known_t, known_p, tz=self.tz)
        return self._with_curve(times, imp, exp)

    def _with_curve(self, times: list[datetime], imp: np.ndarray, exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            curve = self._curve
        if curve is not None:
            t = utc_seconds(times)
            k = np.searchsorted(curve[0], t, side="right") - 1
            inside = (k >= 0) & (k < len(curve[1]))
            imp = np.where(inside, curve[1][np.clip(k, 0, len(curve[1]) - 1)], imp)
            exp = np.where(inside, curve[2][np.clip(k, 0, len(curve[2]) - 1)], exp)
        return imp, exp

    def forecast(self, times: list[datetime], now: datetime
                 ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
        """((import, export) per kWh, PV W, load W) per interval starting at `times`."""
        hist_t: np.ndarray = np.array([], dtype="datetime64[s]")
        hist_pv = hist_load = np.array([])
        if self.store is not None:
            try:
                h = self.store.means(now - timedelta(days=HISTORY_DAYS), now, HISTORY_STEP_S)
                hist_t, hist_pv, hist_load = h["time"], h["pv_w"], h["load_w"]
            except Exception as exc:
                log.warning("history unavailable, forecasting from defaults: %s", exc)
        pv_w = pv_forecast_w(times, self.site, hist_t, hist_pv) if self.site.peak_w > 0 \
            else np.zeros(len(times))
        if self.pv_feed is not None:
            pv_w = self.pv_feed.forecast_w(times, now, pv_w, hist_t, hist_pv)
        load_w = load_forecast_w(times, self.tz, hist_t, hist_load)
        return self.prices(times, now), np.asarray(pv_w, float), np.asarray(load_w, float)
