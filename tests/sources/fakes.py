"""Local HTTP servers answering in each provider's documented format (no test reaches the internet).

`Provider` is a real aiohttp server on 127.0.0.1: a test sets `reply` (status, body, headers,
delay) or a function of the request, and reads `requests` afterwards.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from aiohttp import web

AMS = ZoneInfo("Europe/Amsterdam")
NL = "10YNL----------L"
DE = "10Y1001A1001A82H"


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"


class Provider:
    def __init__(self) -> None:
        self.reply: Reply | Callable[[web.Request], Reply] = Reply()
        self.requests: list[web.Request] = []
        self.bodies: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        self.bodies.append(await request.text())
        r = self.reply(request) if callable(self.reply) else self.reply
        if r.delay_s:
            await asyncio.sleep(r.delay_s)
        return web.Response(status=r.status, text=r.body, headers=r.headers, content_type=r.content_type)

    async def start(self) -> "Provider":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]   # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def day_bounds(day: datetime | Any, tz: ZoneInfo = AMS) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(timezone.utc)
    return start, end


def z(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


# ---- ENTSO-E A44 -------------------------------------------------------------------------------
def a44_period(start: datetime, end: datetime, resolution: str, prices_eur_mwh: dict[int, float]) -> str:
    points = "".join(f"<Point><position>{p}</position><price.amount>{v:g}</price.amount></Point>"
                     for p, v in sorted(prices_eur_mwh.items()))
    return (f"<Period><timeInterval><start>{z(start)}</start><end>{z(end)}</end></timeInterval>"
            f"<resolution>{resolution}</resolution>{points}</Period>")


def a44(periods: list[str], zone: str = NL, currency: str = "EUR", curve: str = "A03") -> str:
    series = "".join(
        f"<TimeSeries><mRID>{i + 1}</mRID><auction.type>A01</auction.type><businessType>A62</businessType>"
        f"<in_Domain.mRID codingScheme=\"A01\">{zone}</in_Domain.mRID>"
        f"<out_Domain.mRID codingScheme=\"A01\">{zone}</out_Domain.mRID>"
        f"<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>"
        f"<currency_Unit.name>{currency}</currency_Unit.name><price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
        f"<curveType>{curve}</curveType>{p}</TimeSeries>" for i, p in enumerate(periods))
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">'
            '<mRID>abc</mRID><revisionNumber>1</revisionNumber><type>A44</type>'
            f'<createdDateTime>2025-10-01T12:00:00Z</createdDateTime>{series}</Publication_MarketDocument>')


def a44_day(day: Any, price_of: Callable[[int], float], step_s: int = 900, zone: str = NL) -> str:
    """A day in Amsterdam time (92, 96 or 100 quarter hours), every position given."""
    start, end = day_bounds(day)
    n = int((end - start).total_seconds() // step_s)
    res = {900: "PT15M", 3600: "PT60M"}[step_s]
    return a44([a44_period(start, end, res, {k + 1: price_of(k) for k in range(n)})], zone)


NO_DATA = ('<?xml version="1.0" encoding="utf-8"?><Acknowledgement_MarketDocument '
           'xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"><mRID>x</mRID>'
           '<createdDateTime>2025-10-01T10:00:00Z</createdDateTime><Reason><code>999</code>'
           '<text>No matching data found for Data item Day-ahead Prices [12.1.D] (10YNL----------L) and '
           'interval 2025-10-02T22:00:00.000Z/2025-10-03T22:00:00.000Z.</text></Reason>'
           '</Acknowledgement_MarketDocument>')
UNAUTHORIZED_HTML = "<html><body><h1>Unauthorized</h1><p>Access denied.</p></body></html>"


# ---- JSON providers ----------------------------------------------------------------------------
def energycharts(starts: list[datetime], eur_mwh: list[float | None], unit: str = "EUR / MWh") -> str:
    return json.dumps({"license_info": "CC BY 4.0 (creativecommons.org/licenses/by/4.0) from Bundesnetzagentur | SMARD.de",
                       "unix_seconds": [int(t.timestamp()) for t in starts], "price": eur_mwh, "unit": unit,
                       "deprecated": False})


def awattar(rows: list[tuple[datetime, datetime, float]], market: str = "de", unit: str = "Eur/MWh") -> str:
    return json.dumps({"object": "list", "url": f"/{market}/v1/marketdata",
                       "data": [{"start_timestamp": int(s.timestamp() * 1000), "end_timestamp": int(e.timestamp() * 1000),
                                 "marketprice": p, "unit": unit} for s, e, p in rows]})


def octopus(rows: list[tuple[datetime, float]]) -> str:
    """Half hours starting at each time with value_inc_vat in p/kWh (newest first, as the API)."""
    results = [{"value_exc_vat": round(p / 1.05, 4), "value_inc_vat": p,
                "valid_from": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "valid_to": (s + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"), "payment_method": None}
               for s, p in sorted(rows, reverse=True)]
    return json.dumps({"count": len(results), "next": None, "previous": None, "results": results})


def tibber(today: list[tuple[datetime, float, float]], tomorrow: list[tuple[datetime, float, float]],
           currency: str = "EUR", home_id: str = "96a14971-525a-4420-aae9-e5aedaa129ff") -> str:
    def item(t: datetime, total: float, energy: float) -> dict[str, Any]:
        return {"total": total, "energy": energy, "startsAt": t.astimezone(AMS).isoformat(timespec="milliseconds"),
                "currency": currency}
    return json.dumps({"data": {"viewer": {"homes": [{"id": home_id, "currentSubscription": {"priceInfo": {
        "today": [item(*x) for x in today], "tomorrow": [item(*x) for x in tomorrow]}}}]}}})


TIBBER_UNAUTHENTICATED = json.dumps({"errors": [{"message": "invalid token", "locations": [{"line": 1, "column": 3}],
                                                 "path": ["viewer"], "extensions": {"code": "UNAUTHENTICATED"}}],
                                     "data": None})


def openmeteo(first_end_utc: datetime, gti: list[float | None]) -> str:
    times = [(first_end_utc + timedelta(minutes=15 * k)).strftime("%Y-%m-%dT%H:%M") for k in range(len(gti))]
    return json.dumps({"latitude": 48.84, "longitude": 6.86, "generationtime_ms": 0.2, "utc_offset_seconds": 0,
                       "timezone": "GMT", "timezone_abbreviation": "GMT", "elevation": 300.0,
                       "minutely_15_units": {"time": "iso8601", "global_tilted_irradiance": "W/m²"},
                       "minutely_15": {"time": times, "global_tilted_irradiance": gti}})


def forecastsolar(points: list[tuple[datetime, float]]) -> str:
    watts = {t.astimezone(timezone.utc).isoformat(): w for t, w in points}
    return json.dumps({"result": {"watts": watts, "watt_hours_period": {}, "watt_hours": {}, "watt_hours_day": {}},
                       "message": {"code": 0, "type": "success", "text": "",
                                   "info": {"latitude": 48.84, "longitude": 6.86, "place": "x", "timezone": "UTC",
                                            "time": "2025-06-01T06:00:00+00:00", "time_zone": "UTC"},
                                   "ratelimit": {"period": 3600, "limit": 12, "remaining": 11}}})


def solcast(first_end: datetime, kw: list[float]) -> str:
    return json.dumps({"forecasts": [{"pv_estimate": v, "pv_estimate10": v * 0.8, "pv_estimate90": v * 1.1,
                                      "period_end": (first_end + timedelta(minutes=30 * k)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
                                      "period": "PT30M"} for k, v in enumerate(kw)]})
