"""Energy-Charts (Fraunhofer ISE): day-ahead prices per bidding zone, no key.

GET {base_url}?bzn=DE-LU&start=2025-10-05T22:00Z&end=2025-10-07T22:00Z
Answer: {"license_info": "...", "unix_seconds": [...], "price": [...], "unit": "EUR / MWh",
"deprecated": false}; a price not known yet is null. Zones: DE-LU, AT, BE, CH, NL, FR, DK1, ...
"""
from __future__ import annotations

from datetime import datetime, timezone

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.intervals import lengths_from_starts
from hems.sources.parse import field, finite, load_json
from hems.sources.series import Series

NAME = "energycharts"
DEFAULT_URL = "https://api.energy-charts.info/price"


class EnergyChartsSource:
    name = NAME

    def __init__(self, zone: str, currency: str = "EUR", base_url: str | None = None, timeout_s: float = 20.0) -> None:
        self.zone, self.currency = zone, currency
        self.url, self.timeout_s = base_url or DEFAULT_URL, timeout_s

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime) -> Series:
        iso = "%Y-%m-%dT%H:%MZ"
        params = {"bzn": self.zone, "start": start.astimezone(timezone.utc).strftime(iso),
                  "end": end.astimezone(timezone.utc).strftime(iso)}
        _, body = await request_text(session, NAME, self.url, now=now, params=params, timeout_s=self.timeout_s)
        return parse_energycharts(body, self.currency)


def parse_energycharts(text: str, currency: str) -> Series:
    doc = load_json(NAME, text)
    unit = str(field(NAME, doc, "unit")).replace(" ", "").lower()
    if unit != f"{currency.lower()}/mwh":
        raise SourceError(NAME, "mismatch", f"prices in {field(NAME, doc, 'unit')!r}, expected {currency} / MWh")
    times, prices = field(NAME, doc, "unix_seconds"), field(NAME, doc, "price")
    if not isinstance(times, list) or not isinstance(prices, list) or len(times) != len(prices):
        raise SourceError(NAME, "malformed", "unix_seconds and price are not lists of one length")
    starts = [finite(NAME, t, f"unix_seconds[{i}]") for i, t in enumerate(times)]
    if any(b <= a for a, b in zip(starts, starts[1:])):
        raise SourceError(NAME, "malformed", "unix_seconds are not increasing")
    lengths = lengths_from_starts(starts, 900.0)
    rows = [(s, length, finite(NAME, p, f"price[{i}]") / 1000.0)
            for i, (s, length, p) in enumerate(zip(starts, lengths, prices)) if p is not None]
    if not rows:
        raise SourceError(NAME, "not_published", "no prices published yet for this period")
    return Series.build(rows, NAME)
