"""PriceFeed and PvFeed: cache on disk, the fetch schedule (publication, backoff, Retry-After,
quotas), one log line per problem, the tariff formula, estimates beyond what is published."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from hems.config import parse_config
from hems.domain.clock import ManualClock
from hems.sources.cache import SeriesCache
from hems.sources.entsoe import EntsoeSource
from hems.sources.pricefeed import PriceFeed
from hems.sources.pvfeed import PvFeed
from hems.sources.solcast import SolcastSource
from hems.sources.tariff import describe, import_export_per_kwh
from tests.simhome import config_dict
from tests.sources import fakes
from tests.sources.fakes import AMS, NL, Reply

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 1, 13)                     # a Tuesday
MORNING = datetime.combine(DAY, time(9, 0), AMS).astimezone(timezone.utc)


def tariff(**keys):
    data = config_dict()
    data["tariff"] = {"kind": "dynamic", "source": "energycharts", "zone": "NL", "currency": "EUR", **keys}
    return parse_config(data, base_dir=ROOT).tariff


@pytest.fixture
async def provider():
    p = await fakes.Provider().start()
    yield p
    await p.stop()


def publisher(provider: fakes.Provider, days_out: list[date]):
    """Answer A44 for the requested window, with the days in days_out published (EUR 100 + k/MWh)."""
    def reply(request):
        start = datetime.strptime(request.query["periodStart"], "%Y%m%d%H%M").replace(tzinfo=timezone.utc)
        end = datetime.strptime(request.query["periodEnd"], "%Y%m%d%H%M").replace(tzinfo=timezone.utc)
        periods = []
        for d in days_out:
            s, e = fakes.day_bounds(d)
            if s < end and e > start:
                n = int((e - s).total_seconds() // 900)
                periods.append(fakes.a44_period(s, e, "PT15M", {k + 1: 100.0 + k for k in range(n)}))
        return Reply(body=fakes.a44(periods) if periods else fakes.NO_DATA, content_type="text/xml")
    provider.reply = reply


def feed_for(provider, clock, tmp_path, **tariff_keys) -> PriceFeed:
    src = EntsoeSource("tok", NL, "EUR", base_url=provider.url, timeout_s=2)
    return PriceFeed(tariff(**tariff_keys), "Europe/Amsterdam", clock, source=src,
                     cache=SeriesCache(tmp_path / "prices.json"))


async def test_polls_until_tomorrow_is_published_then_waits_a_day(provider, tmp_path):
    clock = ManualClock(MORNING)
    published = [DAY - timedelta(days=k) for k in range(15)]
    publisher(provider, published)
    feed = feed_for(provider, clock, tmp_path)
    updates = []
    feed.on_update = lambda: updates.append(clock.now())
    async with aiohttp.ClientSession() as session:
        assert await feed.tick(session)                          # first fetch: today and two weeks back
        assert len(updates) == 1
        first = provider.requests[0].query
        assert first["periodStart"] == fakes.day_bounds(DAY - timedelta(days=14))[0].strftime("%Y%m%d%H%M")
        # nothing more until publication time (13:00 in Brussels)
        pub = datetime.combine(DAY, time(13, 0), AMS).astimezone(timezone.utc)
        assert feed.fetch_log.next_at == pub
        clock.advance(60)
        assert not await feed.tick(session) and len(provider.requests) == 1
        # at 13:00 tomorrow is not out yet: the feed polls again, waiting longer each time
        clock._now = pub
        waits = []
        for _ in range(3):
            assert not await feed.tick(session)
            waits.append((feed.fetch_log.next_at - clock.now()).total_seconds())
            clock._now = feed.fetch_log.next_at
        assert waits == sorted(waits) and waits[0] >= 300 and waits[-1] > waits[0]
        # tomorrow lands: one update, then nothing until tomorrow's publication
        publisher(provider, published + [DAY + timedelta(days=1)])
        assert await feed.tick(session)
        assert len(updates) == 2
        assert feed.fetch_log.next_at == pub + timedelta(days=1)
        # later fetches ask for today and tomorrow only (the cache holds two weeks)
        assert provider.requests[-1].query["periodStart"] == fakes.day_bounds(DAY)[0].strftime("%Y%m%d%H%M")


async def test_cache_survives_a_restart_and_an_offline_day(provider, tmp_path):
    clock = ManualClock(MORNING)
    publisher(provider, [DAY - timedelta(days=k) for k in range(15)])
    feed = feed_for(provider, clock, tmp_path)
    async with aiohttp.ClientSession() as session:
        await feed.tick(session)
    times = [fakes.day_bounds(DAY)[0] + timedelta(minutes=15 * k) for k in range(96)]
    before = feed.view(times, clock.now())
    await provider.stop()                                        # offline from now on
    again = feed_for(provider, clock, tmp_path)
    after = again.view(times, clock.now())
    assert after.source == ["entsoe"] * 96
    assert np.array_equal(before.import_per_kwh, after.import_per_kwh)
    async with aiohttp.ClientSession() as session:
        assert not await again.tick(session)
    assert again.fetch_log.last_error.kind == "connection"
    assert again.view(times, clock.now()).source == ["entsoe"] * 96      # still the known prices


async def test_errors_back_off_log_once_and_honour_retry_after(provider, tmp_path, caplog):
    clock = ManualClock(MORNING)
    feed = feed_for(provider, clock, tmp_path)
    provider.reply = Reply(status=503, body="down", content_type="text/plain")
    waits = []
    with caplog.at_level(logging.INFO, logger="hems.sources"):
        async with aiohttp.ClientSession() as session:
            for _ in range(4):
                await feed.tick(session)
                waits.append((feed.fetch_log.next_at - clock.now()).total_seconds())
                clock._now = feed.fetch_log.next_at
            assert waits == [60, 120, 240, 480]
            provider.reply = Reply(status=429, body="", headers={"Retry-After": "7200"}, content_type="text/plain")
            await feed.tick(session)
            assert (feed.fetch_log.next_at - clock.now()).total_seconds() == 7200
            clock._now = feed.fetch_log.next_at
            provider.reply = Reply(status=401, body="Unauthorized", content_type="text/plain")
            await feed.tick(session)
            assert (feed.fetch_log.next_at - clock.now()).total_seconds() == 6 * 3600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings                     # 503 once (not four times), 429, 401
    assert "HTTP 503" in warnings[0] and "token" in warnings[2]
    # no prices ever: the planner gets the statistical fallback (0 spot), never garbage
    v = feed.view([MORNING], MORNING)
    assert v.source == ["estimate"] and np.isfinite(v.import_per_kwh).all()


def test_tariff_formula_with_grid_fee_windows_and_vat():
    t = tariff(import_markup_per_kwh=0.02, energy_tax_per_kwh=0.1, grid_fee_per_kwh=0.08, vat_factor=1.21,
               export="spot_minus_fee", export_fee_per_kwh=0.01,
               grid_fee_windows=[{"days": "all", "start": "00:00", "end": "06:00", "fee_per_kwh": 0.02},
                                 {"days": "weekdays", "start": "17:00", "end": "20:00", "fee_per_kwh": 0.15}])
    at = [datetime.combine(DAY, time(h, 0), AMS).astimezone(timezone.utc).timestamp() for h in (3, 12, 18)]
    imp, exp = import_export_per_kwh(np.array(at), np.array([-0.05, 0.1, 0.2]), t, AMS)
    assert imp == pytest.approx([(-0.05 + 0.12 + 0.02) * 1.21, (0.1 + 0.12 + 0.08) * 1.21, (0.2 + 0.12 + 0.15) * 1.21])
    assert exp == pytest.approx([-0.06, 0.09, 0.19])
    text = describe(t)
    assert "1.21 VAT" in text and "0.15 Mon-Fri 17:00-20:00" in text and "export = spot - 0.01" in text


async def test_retail_prices_are_used_as_they_are(provider, tmp_path):
    from hems.sources.tibber import TibberSource
    qs = [fakes.day_bounds(DAY)[0] + timedelta(minutes=15 * k) for k in range(96)]
    provider.reply = Reply(body=fakes.tibber([(t, 0.25 + k / 1000, 0.1) for k, t in enumerate(qs)], []))
    data = config_dict()
    data["tariff"] = {"kind": "dynamic", "source": "tibber", "token_file": "config.toml", "currency": "EUR"}
    t = parse_config(data, base_dir=ROOT).tariff
    clock = ManualClock(MORNING)
    feed = PriceFeed(t, "Europe/Amsterdam", clock, source=TibberSource("tok", base_url=provider.url))
    async with aiohttp.ClientSession() as session:
        await feed.tick(session)
    v = feed.view(qs[:8], clock.now())
    assert v.import_per_kwh == pytest.approx([0.25 + k / 1000 for k in range(8)])
    assert v.export_per_kwh == pytest.approx([0.1] * 8)


async def test_implausible_prices_never_reach_the_plan(provider, tmp_path):
    clock = ManualClock(MORNING)
    start, end = fakes.day_bounds(DAY)
    provider.reply = Reply(body=fakes.a44([fakes.a44_period(start, end, "PT60M", {k + 1: 99000.0 for k in range(24)})]),
                           content_type="text/xml")                 # per kWh numbers sent as per MWh
    feed = feed_for(provider, clock, tmp_path)
    async with aiohttp.ClientSession() as session:
        assert not await feed.tick(session)
    assert feed.fetch_log.last_error.kind == "malformed"
    assert len(feed.visible(clock.now())) == 0


async def test_solcast_quota_is_never_exceeded(provider, tmp_path):
    clock = ManualClock(MORNING)
    calls: list[datetime] = []

    def busy(request):
        calls.append(clock.now())
        return Reply(status=503, body="busy", content_type="text/plain")
    provider.reply = busy
    feed = PvFeed(SolcastSource("abcd-1234-ef56-7890", "k", base_url=provider.url), clock, longitude_deg=5.0,
                  peak_w=5000)
    async with aiohttp.ClientSession() as session:
        while clock.now() < MORNING + timedelta(days=2):       # two days of failures and retries
            await feed.tick(session)
            clock._now = max(clock.now() + timedelta(minutes=1), feed.fetch_log.next_at or clock.now())
    assert len(calls) >= 15                                     # it kept trying on both days ...
    for first in calls:                                         # ... never more than 10 in any 24 h
        assert sum(first <= c < first + timedelta(days=1) for c in calls) <= 10


def test_learned_correction_on_top_of_the_weather_forecast():
    from hems.sources.pvmodel import correction_ratio
    hist = np.arange(0, 10 * 86400, 900.0) + 1.7e9
    hour = ((hist / 3600.0) % 24)
    forecast = np.where((hour > 8) & (hour < 16), 3000.0, 0.0)
    measured = 0.7 * forecast                            # shading: the array makes 70 % of the forecast
    ratio = correction_ratio(np.array([hist[-1] + 86400 + 12 * 3600 - (hist[-1] % 86400)]), 0.0, hist, measured,
                             forecast, peak_w=5000)
    assert 0.68 < ratio[0] < 0.75
    assert correction_ratio(np.array([0.0]), 0.0, np.zeros(0), np.zeros(0), np.zeros(0), peak_w=5000)[0] == 1.0


def test_clear_sky_fallback_knows_east_and_west_roofs():
    from hems.forecast import PvSite, clear_sky_pv_w
    day = [datetime(2025, 6, 21, h, 0, tzinfo=timezone.utc) for h in range(4, 19)]
    east_west = PvSite(48.8, 6.8, 6000, planes=((3000, 30, 90), (3000, 30, 270)))
    south = PvSite(48.8, 6.8, 6000, 30, 180)
    ew, s = clear_sky_pv_w(day, east_west, 3600), clear_sky_pv_w(day, south, 3600)
    assert ew.argmax() < s.argmax() + 3 and ew[1] > s[1]          # more in the early morning
    assert ew.max() < s.max()                                       # a flatter midday peak


async def test_a_clock_stepped_back_does_not_stop_fetching(provider, tmp_path):
    clock = ManualClock(MORNING)
    publisher(provider, [DAY - timedelta(days=k) for k in range(15)])
    feed = feed_for(provider, clock, tmp_path)
    async with aiohttp.ClientSession() as session:
        await feed.tick(session)
        clock._now = MORNING - timedelta(days=3)          # NTP corrects a Pi without RTC backwards
        assert feed.fetch_log.due(clock.now())
        await feed.tick(session)
    assert len(provider.requests) == 2
