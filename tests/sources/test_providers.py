"""Energy-Charts, aWATTar, Octopus, Tibber, Open-Meteo, Forecast.Solar and Solcast against local
servers in their documented formats, with their typical faults."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import aiohttp
import numpy as np
import pytest

from hems.sources.awattar import AwattarSource
from hems.sources.energycharts import EnergyChartsSource
from hems.sources.errors import SourceError
from hems.sources.forecastsolar import ForecastSolarSource
from hems.sources.octopus import OctopusSource
from hems.sources.openmeteo import OpenMeteoSource
from hems.sources.planes import Plane
from hems.sources.solcast import SolcastSource
from hems.sources.tibber import TibberSource
from tests.sources import fakes
from tests.sources.fakes import Reply

NOW = datetime(2025, 10, 25, 12, 0, tzinfo=timezone.utc)
FALL_BACK = date(2025, 10, 26)        # 25 hours in Europe


@pytest.fixture
async def provider():
    p = await fakes.Provider().start()
    yield p
    await p.stop()


async def prices(src, day: date = FALL_BACK):
    start, end = fakes.day_bounds(day)
    async with aiohttp.ClientSession() as session:
        return await src.fetch(session, start, end, NOW)


async def pv(src):
    async with aiohttp.ClientSession() as session:
        return await src.fetch(session, NOW)


def quarters(day: date) -> list[datetime]:
    start, end = fakes.day_bounds(day)
    return [start + timedelta(minutes=15 * k) for k in range(int((end - start).total_seconds() // 900))]


async def test_energycharts_quarter_hours_with_unpublished_nulls(provider):
    qs = quarters(FALL_BACK)
    assert len(qs) == 100
    values = [float(-k) for k in range(96)] + [None] * 4
    provider.reply = Reply(body=fakes.energycharts(qs, values))
    s = await prices(EnergyChartsSource("NL", base_url=provider.url + "/price"))
    assert len(s) == 96 and set(s.length_s) == {900.0} and s.value[5] == pytest.approx(-0.005)
    assert provider.requests[0].query["bzn"] == "NL"


@pytest.mark.parametrize("reply,kind", [
    (Reply(body=fakes.energycharts([], [])), "not_published"),
    (Reply(body=fakes.energycharts(quarters(FALL_BACK)[:2], [1.0, 2.0], unit="CHF / MWh")), "mismatch"),
    (Reply(status=404, body=json.dumps({"detail": "Bidding zone XX not found"})), "not_found"),
    (Reply(status=500, body="Internal Server Error", content_type="text/plain"), "unavailable"),
    (Reply(body='{"unix_seconds": [1], "price": [NaN], "unit": "EUR / MWh"}'), "malformed"),
])
async def test_energycharts_faults(provider, reply, kind):
    provider.reply = reply
    with pytest.raises(SourceError) as exc:
        await prices(EnergyChartsSource("NL", base_url=provider.url + "/price"))
    assert exc.value.kind == kind


async def test_awattar_hourly_and_wrong_market(provider):
    start, _ = fakes.day_bounds(FALL_BACK)
    rows = [(start + timedelta(hours=h), start + timedelta(hours=h + 1), 100.0 - 20 * h) for h in range(25)]
    provider.reply = Reply(body=fakes.awattar(rows))
    s = await prices(AwattarSource("de", base_url=provider.url + "/v1/marketdata"))
    assert len(s) == 25 and s.value[-1] == pytest.approx(-0.38)
    q = provider.requests[0].query
    assert int(q["start"]) == int(start.timestamp() * 1000)
    provider.reply = Reply(body=fakes.awattar(rows, market="at"))
    with pytest.raises(SourceError) as exc:
        await prices(AwattarSource("de", base_url=provider.url + "/v1/marketdata"))
    assert exc.value.kind == "mismatch"
    provider.reply = Reply(body=fakes.awattar(rows, unit="Eur/kWh"))
    with pytest.raises(SourceError):
        await prices(AwattarSource("de", base_url=provider.url + "/v1/marketdata"))


async def test_octopus_half_hours_retail_price(provider):
    start, _ = fakes.day_bounds(FALL_BACK, fakes.ZoneInfo("Europe/London"))
    rows = [(start + timedelta(minutes=30 * k), 20.0 + k) for k in range(50)]
    provider.reply = Reply(body=fakes.octopus(rows))
    s = await prices(OctopusSource("AGILE-24-10-01", "C", "GBP", base_url=provider.url))
    assert len(s) == 50 and set(s.length_s) == {1800.0}
    assert s.has_import and s.import_value[0] == pytest.approx(0.20)
    assert provider.requests[0].path == "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-C/standard-unit-rates/"
    provider.reply = Reply(body=fakes.octopus([]))
    with pytest.raises(SourceError) as exc:
        await prices(OctopusSource("AGILE-24-10-01", "C", "GBP", base_url=provider.url))
    assert exc.value.kind == "not_published"
    with pytest.raises(SourceError) as exc:
        await prices(OctopusSource("AGILE-24-10-01", "C", "EUR", base_url=provider.url))
    assert exc.value.kind == "mismatch"


async def test_tibber_quarter_hours_today_and_empty_tomorrow(provider):
    qs = quarters(FALL_BACK)
    provider.reply = Reply(body=fakes.tibber([(t, 0.30 + k / 1000, 0.08) for k, t in enumerate(qs)], []))
    s = await prices(TibberSource("tok", base_url=provider.url + "/v1-beta/gql"))
    assert len(s) == 100 and s.import_value[3] == pytest.approx(0.303) and s.value[3] == pytest.approx(0.08)
    req = provider.requests[0]
    assert req.method == "POST" and req.headers["Authorization"] == "Bearer tok"
    assert "QUARTER_HOURLY" in json.loads(provider.bodies[0])["query"]


@pytest.mark.parametrize("reply,kind", [
    (Reply(body=fakes.TIBBER_UNAUTHENTICATED), "auth"),
    (Reply(status=400, body=fakes.TIBBER_UNAUTHENTICATED), "auth"),
    (Reply(body=fakes.tibber([], [])), "not_published"),
    (Reply(body=fakes.tibber([(datetime(2025, 10, 26, tzinfo=timezone.utc), 1.0, 0.5)], [], currency="NOK")), "mismatch"),
    (Reply(status=429, body="slow down", headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), "rate_limited"),
])
async def test_tibber_faults(provider, reply, kind):
    provider.reply = reply
    with pytest.raises(SourceError) as exc:
        await prices(TibberSource("tok", base_url=provider.url))
    assert exc.value.kind == kind


async def test_openmeteo_two_planes_rounded_location(provider):
    end0 = datetime(2025, 6, 1, 10, 15, tzinfo=timezone.utc)
    provider.reply = lambda req: Reply(body=fakes.openmeteo(end0, [800.0, 1000.0, None] if req.query["azimuth"] == "-90"
                                                            else [400.0, -3.0, 100.0]))
    planes = [Plane(4000, 30, 90), Plane(2000, 30, 270)]          # east and west roofs
    s = await pv(OpenMeteoSource(48.83456, 6.86123, planes, base_url=provider.url + "/v1/forecast"))
    azimuths = sorted(r.query["azimuth"] for r in provider.requests)
    assert azimuths == ["-90", "90"]
    assert {r.query["latitude"] for r in provider.requests} == {"48.83"}          # ~1 km, never the house
    assert s.start_s[0] == (end0 - timedelta(minutes=15)).timestamp()
    assert s.value[0] == pytest.approx(4000 * 0.85 * 0.8 + 2000 * 0.85 * 0.4)
    assert s.value[1] == pytest.approx(4000 * 0.85 * 1.0)                       # negative GTI -> 0
    assert s.value[2] == pytest.approx(2000 * 0.85 * 0.1)                        # a null -> that plane absent


async def test_openmeteo_error_document(provider):
    provider.reply = Reply(status=400, body=json.dumps({"error": True, "reason": "Latitude must be in range"}))
    with pytest.raises(SourceError) as exc:
        await pv(OpenMeteoSource(48.8, 6.8, [Plane(1000, 30, 180)], base_url=provider.url))
    assert exc.value.kind == "not_found"


async def test_forecastsolar_instants_become_intervals(provider):
    t0 = datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc)
    provider.reply = Reply(body=fakes.forecastsolar([(t0, 1000.0), (t0 + timedelta(hours=1), 3000.0)]))
    s = await pv(ForecastSolarSource(48.8, 6.8, [Plane(5000, 35, 135)], base_url=provider.url))
    assert provider.requests[0].path == "/estimate/48.80/6.80/35/-45/5"
    assert len(s) == 1 and s.length_s[0] == 3600 and s.value[0] == pytest.approx(2000.0)
    provider.reply = Reply(status=429, body=json.dumps({"result": None, "message": {"code": 429, "type": "error",
                                                                                   "text": "Rate limit for API calls reached."}}))
    with pytest.raises(SourceError) as exc:
        await pv(ForecastSolarSource(48.8, 6.8, [Plane(5000, 35, 135)], base_url=provider.url))
    assert exc.value.kind == "rate_limited"


async def test_solcast_period_end_and_kw(provider):
    end0 = datetime(2025, 6, 1, 10, 30, tzinfo=timezone.utc)
    provider.reply = Reply(body=fakes.solcast(end0, [1.5, 2.0]))
    s = await pv(SolcastSource("abcd-1234-ef56-7890", "key", base_url=provider.url))
    assert provider.requests[0].path == "/rooftop_sites/abcd-1234-ef56-7890/forecasts"
    assert provider.requests[0].headers["Authorization"] == "Bearer key"
    assert s.start_s[0] == (end0 - timedelta(minutes=30)).timestamp()
    assert np.allclose(s.value, [1500.0, 2000.0])
    provider.reply = Reply(status=401, body='{"response_status": {"error_code": "Unauthorized"}}')
    with pytest.raises(SourceError) as exc:
        await pv(SolcastSource("abcd-1234-ef56-7890", "bad", base_url=provider.url))
    assert exc.value.kind == "auth"


async def test_no_server_is_a_connection_error():
    from tests.conftest import free_port
    src = EnergyChartsSource("NL", base_url=f"http://127.0.0.1:{free_port()}/price", timeout_s=2)
    with pytest.raises(SourceError) as exc:
        await prices(src)
    assert exc.value.kind == "connection"
