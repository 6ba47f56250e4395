"""`hems prices` and `hems forecast`: fetch now with the config's sources and print per interval
the start (UTC), spot, import and export price (and the PV forecast), and which source filled
each value. Installers check a setup with them; exit 1 with one line on a refused token, an
unknown zone or no connection."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np

from hems.domain.clock import SystemClock
from hems.sources.errors import SourceError

FATAL = ("auth", "not_found", "mismatch", "connection", "timeout", "malformed", "unavailable", "rate_limited")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config.toml", help="config file (default: config.toml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def day_times(tz: ZoneInfo, first: date, days: int, interval_s: int) -> list[datetime]:
    """Interval starts (UTC) covering `days` local calendar days from `first` (23/25 h on DST days)."""
    start = datetime.combine(first, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(first + timedelta(days=days), time(0), tz).astimezone(timezone.utc)
    n = int((end - start).total_seconds() // interval_s)
    return [start + timedelta(seconds=k * interval_s) for k in range(n)]


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"hems: --day {text!r} is not a date YYYY-MM-DD") from None


async def fetch_prices(cfg: Any, times: list[datetime], now: datetime) -> tuple[Any, str | None]:
    """(PriceView or None for fixed/tou tariffs, a warning). Raises SourceError when fatal."""
    from hems.sources.factory import price_feed

    feed = price_feed(cfg, SystemClock())
    if feed is None:
        return None, None
    warning = None
    if feed.live:
        async with aiohttp.ClientSession(headers={"User-Agent": "hems"}) as session:
            try:
                await feed.fetch_now(session, times[0], times[-1] + timedelta(seconds=cfg.planner.interval_s),
                                     now, save=False)
            except SourceError as err:
                if err.kind in FATAL:
                    raise
                warning = str(err)
    return feed.view(times, now), warning


def tariff_prices(cfg: Any, times: list[datetime]) -> tuple[np.ndarray, np.ndarray]:
    from hems.forecast import price_forecast
    return price_forecast(times, cfg.tariff, tz=cfg.site.timezone)


def price_rows(cfg: Any, times: list[datetime], view: Any) -> list[dict[str, Any]]:
    if view is None:
        imp, exp = tariff_prices(cfg, times)
        spot = [None] * len(times)
        source = [cfg.tariff.kind] * len(times)
    else:
        imp, exp, spot, source = view.import_per_kwh, view.export_per_kwh, view.spot_per_kwh.tolist(), view.source
    return [{"start": t.isoformat().replace("+00:00", "Z"), "interval_s": cfg.planner.interval_s,
             "spot_per_kwh": None if s is None else round(float(s), 5),
             "import_per_kwh": round(float(i), 5), "export_per_kwh": round(float(e), 5), "source": src}
            for t, s, i, e, src in zip(times, spot, imp, exp, source)]


def print_rows(rows: list[dict[str, Any]], as_json: bool, currency: str) -> None:
    if as_json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    pv = rows and "pv_w" in rows[0]
    head = f"{'start (UTC)':<20} {'spot':>9} {'import':>9} {'export':>9}  source"
    print(f"prices in {currency}/kWh" + ("; PV in W" if pv else ""))
    print(head + ("       pv_w  pv_source" if pv else ""))
    for r in rows:
        spot = "" if r["spot_per_kwh"] is None else f"{r['spot_per_kwh']:.4f}"
        line = (f"{r['start'][:16].replace('T', ' '):<20} {spot:>9} {r['import_per_kwh']:>9.4f} "
                f"{r['export_per_kwh']:>9.4f}  {r['source']:<12}")
        if pv:
            line += f" {r['pv_w']:>9.0f}  {r['pv_source']}"
        print(line)


def load(path: str) -> Any:
    from hems.app import load_or_report
    return load_or_report(path)


def report_error(command: str, err: Exception) -> int:
    print(f"hems {command}: {err}", file=sys.stderr)
    return 1


def run_prices(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    if cfg is None:
        return 1
    tz = ZoneInfo(cfg.site.timezone)
    now = datetime.now(timezone.utc)
    day = parse_day(args.day)
    times = day_times(tz, day or now.astimezone(tz).date(), 1 if day else 2, cfg.planner.interval_s)
    try:
        view, warning = asyncio.run(fetch_prices(cfg, times, now))
    except (SourceError, ValueError) as err:
        return report_error("prices", err)
    if warning:
        print(f"hems prices: {warning}; estimated where not published", file=sys.stderr)
    print_rows(price_rows(cfg, times, view), args.json, cfg.tariff.currency)
    return 0


async def fetch_pv(cfg: Any, times: list[datetime], now: datetime) -> tuple[np.ndarray, list[str], str | None]:
    """PV W per interval with its source; the clear-sky model where the provider has nothing."""
    from hems.forecast import PvSite, pv_forecast_w
    from hems.sources.factory import pv_feed

    site = PvSite.from_config(cfg.site)   # the clear-sky model (all planes) with its default ratio
    fallback = pv_forecast_w(times, site) if site.peak_w > 0 else np.zeros(len(times))
    feed = pv_feed(cfg, SystemClock())
    if feed is None:
        return fallback, ["clearsky"] * len(times), None
    warning = None
    async with aiohttp.ClientSession(headers={"User-Agent": "hems"}) as session:
        try:
            await feed.fetch_once(session, now)
        except SourceError as err:
            if err.kind in FATAL:
                raise
            warning = str(err)
    pv, labels = feed.view(times, now, fallback)
    return pv, labels, warning


def run_forecast(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    if cfg is None:
        return 1
    tz = ZoneInfo(cfg.site.timezone)
    now = datetime.now(timezone.utc)
    times = day_times(tz, now.astimezone(tz).date(), 2, cfg.planner.interval_s)

    async def both() -> tuple[Any, Any]:
        return await fetch_prices(cfg, times, now), await fetch_pv(cfg, times, now)
    try:
        (view, warn_p), (pv, pv_src, warn_pv) = asyncio.run(both())
    except (SourceError, ValueError) as err:
        return report_error("forecast", err)
    for w in (warn_p, warn_pv):
        if w:
            print(f"hems forecast: {w}; estimated where not published", file=sys.stderr)
    rows = price_rows(cfg, times, view)
    for r, w, src in zip(rows, pv, pv_src):
        r["pv_w"], r["pv_source"] = round(float(w), 1), src
    print_rows(rows, args.json, cfg.tariff.currency)
    return 0
