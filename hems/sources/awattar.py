"""aWATTar (Germany, Austria): the EPEX day-ahead price, no key (fair use: about 100 calls a day).

GET https://api.awattar.de/v1/marketdata?start=<ms>&end=<ms>  (api.awattar.at for Austria)
Answer: {"object": "list", "data": [{"start_timestamp": ms, "end_timestamp": ms,
"marketprice": 93.1, "unit": "Eur/MWh"}], "url": "/de/v1/marketdata"}
"""
from __future__ import annotations

from datetime import datetime

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import field, finite, load_json
from hems.sources.series import Series

NAME = "awattar"
URLS = {"de": "https://api.awattar.de/v1/marketdata", "at": "https://api.awattar.at/v1/marketdata"}


class AwattarSource:
    name = NAME

    def __init__(self, zone: str, currency: str = "EUR", base_url: str | None = None, timeout_s: float = 20.0) -> None:
        if zone not in URLS:
            raise ValueError(f"aWATTar zone {zone!r}: expected \"de\" or \"at\"")
        self.zone, self.currency = zone, currency
        self.url, self.timeout_s = base_url or URLS[zone], timeout_s

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime) -> Series:
        params = {"start": str(int(start.timestamp() * 1000)), "end": str(int(end.timestamp() * 1000))}
        _, body = await request_text(session, NAME, self.url, now=now, params=params, timeout_s=self.timeout_s)
        return parse_awattar(body, self.zone, self.currency)


def parse_awattar(text: str, zone: str, currency: str) -> Series:
    doc = load_json(NAME, text)
    url = doc.get("url") if isinstance(doc, dict) else None
    if isinstance(url, str) and url.startswith("/") and not url.startswith(f"/{zone}/"):
        raise SourceError(NAME, "mismatch", f"answer is for {url.split('/')[1]!r}, not the configured {zone!r}")
    data = field(NAME, doc, "data")
    if not isinstance(data, list):
        raise SourceError(NAME, "malformed", "data is not a list")
    rows = []
    for i, d in enumerate(data):
        unit = str(field(NAME, d, "unit")).lower()
        if unit != f"{currency.lower()}/mwh":
            raise SourceError(NAME, "mismatch", f"data[{i}].unit {field(NAME, d, 'unit')!r}, expected {currency}/MWh")
        s = finite(NAME, field(NAME, d, "start_timestamp"), f"data[{i}].start_timestamp") / 1000.0
        e = finite(NAME, field(NAME, d, "end_timestamp"), f"data[{i}].end_timestamp") / 1000.0
        if e <= s:
            raise SourceError(NAME, "malformed", f"data[{i}] ends before it starts")
        rows.append((s, e - s, finite(NAME, field(NAME, d, "marketprice"), f"data[{i}].marketprice") / 1000.0))
    if not rows:
        raise SourceError(NAME, "not_published", "no prices published yet for this period")
    return Series.build(rows, NAME)
