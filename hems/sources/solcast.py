"""Solcast rooftop sites: PV power forecast of the site configured at solcast.com (its planes,
its capacity), with the owner's API key. The free tier allows 10 calls a day.

GET {base_url}/rooftop_sites/{site_id}/forecasts?format=json&hours=72,
Authorization: Bearer <key>. Answer: {"forecasts": [{"pv_estimate": 1.23 (kW),
"pv_estimate10": .., "pv_estimate90": .., "period_end": "2025-06-01T10:30:00.0000000Z",
"period": "PT30M"}]}. Over the quota: HTTP 429.
"""
from __future__ import annotations

import re
from datetime import datetime

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import aware_time, field, finite, load_json
from hems.sources.series import Series

NAME = "solcast"
DEFAULT_URL = "https://api.solcast.com.au"
_PERIOD = re.compile(r"PT(\d+)M")


class SolcastSource:
    name = NAME
    min_refresh_s = 3 * 3600.0       # 8 calls a day at most, 2 left for retries
    max_calls_per_day = 10

    def __init__(self, site_id: str, key: str, base_url: str | None = None, timeout_s: float = 20.0) -> None:
        self.site_id, self.key = site_id, key
        self.url, self.timeout_s = (base_url or DEFAULT_URL).rstrip("/"), timeout_s

    async def fetch(self, session: aiohttp.ClientSession, now: datetime) -> Series:
        url = f"{self.url}/rooftop_sites/{self.site_id}/forecasts"
        _, body = await request_text(session, NAME, url, now=now, params={"format": "json", "hours": "72"},
                                     headers={"Authorization": f"Bearer {self.key}"}, timeout_s=self.timeout_s)
        return parse_solcast(body)


def parse_solcast(text: str) -> Series:
    doc = load_json(NAME, text)
    items = field(NAME, doc, "forecasts")
    if not isinstance(items, list):
        raise SourceError(NAME, "malformed", "forecasts is not a list")
    rows = []
    for i, f in enumerate(items):
        end = _fix_fraction(field(NAME, f, "period_end"))
        m = _PERIOD.fullmatch(str(field(NAME, f, "period")))
        if not m:
            raise SourceError(NAME, "malformed", f"forecasts[{i}].period {f.get('period')!r} is not PTnM")
        length = int(m.group(1)) * 60.0
        kw = finite(NAME, field(NAME, f, "pv_estimate"), f"forecasts[{i}].pv_estimate")
        if kw < 0:
            raise SourceError(NAME, "malformed", f"forecasts[{i}].pv_estimate {kw:g} kW is negative")
        rows.append((aware_time(NAME, end, f"forecasts[{i}].period_end").timestamp() - length, length, kw * 1000.0))
    if not rows:
        raise SourceError(NAME, "not_published", "no forecast in the answer")
    return Series.build(rows, NAME)


def _fix_fraction(value: object) -> object:
    """Solcast writes 7 fraction digits ("...:00.0000000Z"); Python reads at most 6."""
    if isinstance(value, str):
        return re.sub(r"\.(\d{6})\d+", r".\1", value)
    return value
