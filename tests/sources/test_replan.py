"""The agent on the simulated home with prices from a local ENTSO-E server: when tomorrow's
prices land at midday the loop replans at once on them, and the plan says which prices were
known and which estimated."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import aiohttp
import pytest

from hems.app import connect_feeds
from hems.domain.clock import ManualClock
from tests.simhome import HomeRig
from tests.sources import fakes
from tests.sources.test_feed import DAY, publisher

PARIS = fakes.ZoneInfo("Europe/Paris")


async def test_new_prices_at_midday_make_the_loop_replan(tmp_path):
    provider = await fakes.Provider().start()
    token = tmp_path / "entsoe.token"
    token.write_text("tok\n")
    published = [DAY - timedelta(days=k) for k in range(15)]
    publisher(provider, published)
    start = datetime.combine(DAY, time(12, 59), PARIS).astimezone(timezone.utc)
    clock = ManualClock(start)
    tariff = {"source": "entsoe", "zone": fakes.NL, "token_file": str(token), "base_url": provider.url + "/api",
              "prices_csv": None, "vat_factor": 1.21, "import_markup_per_kwh": 0.02}
    try:
        async with HomeRig(clock, start, tmp_path, tariff=tariff) as rig:
            agent = rig.agent
            live = connect_feeds(agent, [rig.forecaster.price_feed])
            feed = live[0]
            async with aiohttp.ClientSession() as session:
                assert await feed.tick(session)
                rig.home.step(clock.now())
                await agent.tick(wait_for_plan=True)
                before = agent.plan
                sources = before.price_source
                times = [before.start + timedelta(seconds=before.interval_s * k) for k in range(len(sources))]
                tomorrow_noon = datetime.combine(DAY + timedelta(days=1), time(12, 0), fakes.AMS).astimezone(timezone.utc)
                k = times.index(tomorrow_noon)
                assert sources[0] == "entsoe" and sources[k] == "estimate"
                assert "prices known until Tue 24:00, estimated after" in before.reasons[k]
                # 13:00: tomorrow is published; at this home's fetch time (13:00 plus up to ten
                # minutes of spread) the feed fetches it and the loop replans at once
                assert start + timedelta(minutes=1) <= feed.fetch_log.next_at <= start + timedelta(minutes=11)
                clock._now = feed.fetch_log.next_at
                rig.home.step(clock.now())
                await agent.tick(wait_for_plan=True)
                assert agent.plan is before                     # no replan due by the clock alone
                publisher(provider, published + [DAY + timedelta(days=1)])
                assert await feed.tick(session)
                await agent.tick(wait_for_plan=True)
                after = agent.plan
                assert after is not before
                # tomorrow 12:00 Amsterdam is quarter 48 of the day: 148 EUR/MWh, with the formula
                j = [after.start + timedelta(seconds=after.interval_s * i) for i in range(len(after.ev_w))].index(tomorrow_noon)
                assert after.price_source[j] == "entsoe"
                assert after.import_price_per_kwh[j] == pytest.approx((0.148 + 0.02) * 1.21)
    finally:
        await provider.stop()
