"""Config -> feeds: the one place that knows which module serves which `source = "..."`."""
from __future__ import annotations

import random
import re
from typing import Any

import numpy as np

from hems.forecast.data import load_prices_csv
from hems.forecast.timeutil import step_s, utc_seconds
from hems.sources.base import PriceSource, read_secret
from hems.sources.cache import SeriesCache
from hems.sources.pricefeed import PriceFeed
from hems.sources.series import Series


def price_source(tariff: Any) -> PriceSource:
    """The live price provider of a dynamic tariff (not "csv"). ValueError naming the key."""
    kw = {"base_url": tariff.base_url, "timeout_s": tariff.timeout_s}
    src = tariff.source
    if src == "entsoe":
        from hems.sources.entsoe import EntsoeSource
        return EntsoeSource(read_secret(tariff.token_file, "tariff.token_file"), tariff.zone, tariff.currency, **kw)
    if src == "energycharts":
        from hems.sources.energycharts import EnergyChartsSource
        return EnergyChartsSource(tariff.zone, tariff.currency, **kw)
    if src == "awattar":
        from hems.sources.awattar import AwattarSource
        return AwattarSource(tariff.zone, tariff.currency, **kw)
    if src == "octopus":
        from hems.sources.octopus import OctopusSource
        return OctopusSource(tariff.product, tariff.region, tariff.currency, **kw)
    if src == "tibber":
        from hems.sources.tibber import TibberSource
        return TibberSource(read_secret(tariff.token_file, "tariff.token_file"), tariff.home_id, tariff.currency, **kw)
    raise ValueError(f"tariff.source: {src!r} is not a live price source")


def csv_series(path: Any) -> Series:
    times, price = load_prices_csv(path)
    t = utc_seconds(times)
    ok = np.isfinite(price)
    step = step_s(t, 3600.0)
    return Series(t[ok], np.full(int(ok.sum()), step), price[ok], "csv")


def cache_name(tariff: Any) -> str:
    if tariff.source == "octopus":
        ident = f"{tariff.product}-{tariff.region}"
    else:
        ident = tariff.zone or tariff.home_id or "default"
    return "prices-" + re.sub(r"[^A-Za-z0-9_.-]", "_", f"{tariff.source}-{ident}") + ".json"


def price_feed(cfg: Any, clock: Any) -> PriceFeed | None:
    """The PriceFeed of a dynamic tariff (CSV or live), None for fixed and time-of-use tariffs."""
    tariff = cfg.tariff
    if tariff.kind != "dynamic":
        return None
    if tariff.source == "csv":
        return PriceFeed(tariff, cfg.site.timezone, clock, static=csv_series(tariff.prices_csv))
    cache = SeriesCache(cfg.storage.data_dir / "sources" / cache_name(tariff))
    jitter_s = random.Random().uniform(0.0, 600.0)      # spread the homes over ten minutes
    return PriceFeed(tariff, cfg.site.timezone, clock, source=price_source(tariff), cache=cache, jitter_s=jitter_s)


def pv_feed(cfg: Any, clock: Any) -> Any:
    """The weather-based PV forecast of [solar], None for "clearsky" or without PV."""
    from hems.sources.planes import site_planes
    from hems.sources.pvfeed import PvFeed

    solar, site = cfg.solar, cfg.site
    planes = site_planes(site)
    if solar.source == "clearsky" or not planes:
        return None
    kw = {"base_url": solar.base_url, "timeout_s": solar.timeout_s}
    if solar.source == "openmeteo":
        from hems.sources.openmeteo import OpenMeteoSource
        source: Any = OpenMeteoSource(site.latitude, site.longitude, planes, **kw)
    elif solar.source == "forecastsolar":
        from hems.sources.forecastsolar import ForecastSolarSource
        key = read_secret(solar.token_file, "solar.token_file") if solar.token_file else None
        source = ForecastSolarSource(site.latitude, site.longitude, planes, key, **kw)
    elif solar.source == "solcast":
        from hems.sources.solcast import SolcastSource
        source = SolcastSource(solar.site_id, read_secret(solar.token_file, "solar.token_file"), **kw)
    else:
        raise ValueError(f"solar.source: {solar.source!r} is not a forecast source")
    cache = SeriesCache(cfg.storage.data_dir / "sources" / f"pv-{solar.source}.json")
    return PvFeed(source, clock, longitude_deg=site.longitude, peak_w=sum(p.peak_w for p in planes), cache=cache)
