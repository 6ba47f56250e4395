"""ENTSO-E A44 against a local server in the platform's format: resolutions, DST days, curve A03,
negative prices and every failure an installer meets."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import aiohttp
import numpy as np
import pytest

from hems.sources.entsoe import EntsoeSource, parse_a44
from hems.sources.errors import SourceError
from tests.sources import fakes
from tests.sources.fakes import NL, Reply

NOW = datetime(2025, 10, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
async def provider():
    p = await fakes.Provider().start()
    yield p
    await p.stop()


async def fetch(provider: fakes.Provider, day: date, zone: str = NL, currency: str = "EUR", timeout_s: float = 5.0):
    src = EntsoeSource("secret-token", zone, currency, base_url=provider.url + "/api", timeout_s=timeout_s)
    start, end = fakes.day_bounds(day)
    async with aiohttp.ClientSession() as session:
        return await src.fetch(session, start, end, NOW)


@pytest.mark.parametrize("day,quarters", [(date(2025, 10, 26), 100), (date(2026, 3, 29), 92), (date(2025, 11, 4), 96)])
async def test_dst_days_have_their_quarter_hours(provider, day, quarters):
    provider.reply = Reply(body=fakes.a44_day(day, lambda k: 50.0 + k), content_type="text/xml")
    s = await fetch(provider, day)
    assert len(s) == quarters
    start, end = fakes.day_bounds(day)
    assert s.start_s[0] == start.timestamp() and s.end_s == end.timestamp()
    assert np.allclose(s.value, (50.0 + np.arange(quarters)) / 1000.0)       # EUR/MWh -> EUR/kWh
    q = provider.requests[0].query
    assert (q["documentType"], q["in_Domain"], q["out_Domain"]) == ("A44", NL, NL)
    assert q["periodStart"] == start.strftime("%Y%m%d%H%M") and q["securityToken"] == "secret-token"


async def test_hourly_and_quarter_hour_periods_in_one_document(provider):
    # the day of the switch: the first hours in PT60M, the rest in PT15M
    start, end = fakes.day_bounds(date(2025, 10, 1))
    mid = start + timedelta(hours=6)
    doc = fakes.a44([fakes.a44_period(start, mid, "PT60M", {k + 1: 100.0 for k in range(6)}),
                     fakes.a44_period(mid, end, "PT15M", {k + 1: -5.0 for k in range(72)})])
    provider.reply = Reply(body=doc, content_type="text/xml")
    s = await fetch(provider, date(2025, 10, 1))
    assert len(s) == 6 + 72
    assert set(s.length_s[:6]) == {3600.0} and set(s.length_s[6:]) == {900.0}
    assert s.end_s == end.timestamp()
    assert np.allclose(s.value[6:], -0.005)                                  # negative prices kept


async def test_a03_left_out_positions_repeat_the_price_before(provider):
    start, end = fakes.day_bounds(date(2025, 11, 4))
    # 96 quarters, only positions 1, 5 and 90 given: 1-4 at 80, 5-89 at -12.5, 90-96 at 30
    doc = fakes.a44([fakes.a44_period(start, end, "PT15M", {1: 80.0, 5: -12.5, 90: 30.0})], curve="A03")
    provider.reply = Reply(body=doc, content_type="text/xml")
    s = await fetch(provider, date(2025, 11, 4))
    assert len(s) == 96
    assert np.allclose(s.value[:4], 0.08) and np.allclose(s.value[4:89], -0.0125) and np.allclose(s.value[89:], 0.03)


async def test_a01_gap_stays_a_gap():
    start, end = fakes.day_bounds(date(2025, 11, 4))
    doc = fakes.a44([fakes.a44_period(start, end, "PT15M", {1: 80.0, 3: 70.0})], curve="A01")
    s = parse_a44(doc, NL, "EUR")
    assert list(s.start_s - start.timestamp()) == [0.0, 1800.0]


@pytest.mark.parametrize("reply,kind", [
    (Reply(status=200, body=fakes.NO_DATA, content_type="text/xml"), "not_published"),
    (Reply(status=400, body=fakes.NO_DATA, content_type="text/xml"), "not_published"),
    (Reply(status=401, body=fakes.UNAUTHORIZED_HTML, content_type="text/html"), "auth"),
    (Reply(status=403, body="forbidden", content_type="text/plain"), "auth"),
    (Reply(status=503, body="<html>maintenance</html>", content_type="text/html"), "unavailable"),
    (Reply(status=200, body="<Publication_MarketDocument><TimeSeries>", content_type="text/xml"), "malformed"),
    (Reply(status=200, body="<html><body>proxy login</body></html>", content_type="text/html"), "malformed"),
])
async def test_failures_have_a_kind_and_a_clear_message(provider, reply, kind):
    provider.reply = reply
    with pytest.raises(SourceError) as exc:
        await fetch(provider, date(2025, 11, 4))
    assert exc.value.kind == kind
    assert "secret-token" not in str(exc.value)


async def test_429_gives_retry_after(provider):
    provider.reply = Reply(status=429, body="Too many requests", headers={"Retry-After": "120"}, content_type="text/plain")
    with pytest.raises(SourceError) as exc:
        await fetch(provider, date(2025, 11, 4))
    assert exc.value.kind == "rate_limited" and exc.value.retry_after_s == 120.0


async def test_slow_server_times_out(provider):
    provider.reply = Reply(body=fakes.a44_day(date(2025, 11, 4), lambda k: 1.0), delay_s=3.0, content_type="text/xml")
    with pytest.raises(SourceError) as exc:
        await fetch(provider, date(2025, 11, 4), timeout_s=0.3)
    assert exc.value.kind == "timeout"


async def test_wrong_zone_and_wrong_currency_are_refused(provider):
    provider.reply = Reply(body=fakes.a44_day(date(2025, 11, 4), lambda k: 1.0, zone=fakes.DE), content_type="text/xml")
    with pytest.raises(SourceError, match="zone") as exc:
        await fetch(provider, date(2025, 11, 4))
    assert exc.value.kind == "mismatch"
    provider.reply = Reply(body=fakes.a44_day(date(2025, 11, 4), lambda k: 1.0), content_type="text/xml")
    with pytest.raises(SourceError, match="currency") as exc:
        await fetch(provider, date(2025, 11, 4), currency="GBP")
    assert exc.value.kind == "mismatch"


@pytest.mark.parametrize("bad", ["NaN", "INF", "12,5", ""])
def test_non_finite_or_garbled_prices_are_refused(bad):
    start, end = fakes.day_bounds(date(2025, 11, 4))
    doc = fakes.a44([fakes.a44_period(start, end, "PT15M", {1: 1.0})]).replace("<price.amount>1</price.amount>",
                                                                             f"<price.amount>{bad}</price.amount>")
    with pytest.raises(SourceError) as exc:
        parse_a44(doc, NL, "EUR")
    assert exc.value.kind == "malformed"


def test_entity_expansion_is_refused():
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            '<Publication_MarketDocument>&b;</Publication_MarketDocument>')
    with pytest.raises(SourceError) as exc:
        parse_a44(bomb, NL, "EUR")
    assert exc.value.kind == "malformed"


async def test_a_large_answer_is_read_to_its_end(provider):
    # two weeks of quarter hours (~110 KiB) arrive in many chunks: every one must be read
    days = [date(2026, 1, 1) + timedelta(days=d) for d in range(16)]
    periods = [fakes.a44_period(*fakes.day_bounds(d), "PT15M", {k + 1: 1.0 + k for k in range(96)}) for d in days]
    provider.reply = Reply(body=fakes.a44(periods), content_type="text/xml")
    src = EntsoeSource("secret-token", NL, base_url=provider.url)
    async with aiohttp.ClientSession() as session:
        s = await src.fetch(session, fakes.day_bounds(days[0])[0], fakes.day_bounds(days[-1])[1], NOW)
    assert len(s) == 16 * 96


def test_two_series_for_one_day_the_finer_wins():
    start, end = fakes.day_bounds(date(2025, 11, 4))
    hourly = fakes.a44_period(start, end, "PT60M", {k + 1: 100.0 for k in range(24)})
    quarter = fakes.a44_period(start, end, "PT15M", {k + 1: 10.0 for k in range(96)})
    s = parse_a44(fakes.a44([hourly, quarter]), NL, "EUR")
    assert len(s) == 96 and np.allclose(s.value, 0.01)
