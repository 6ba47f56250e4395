"""Forecast.Solar: PV power estimate per plane (free: 12 calls an hour per address, no key).

GET {base_url}/estimate/{lat}/{lon}/{declination}/{azimuth}/{kwp}?time=utc
(paid plans: {base_url}/{key}/estimate/...; azimuth -180..180, 0 = south, -90 = east).
Answer: {"result": {"watts": {"2025-06-01T05:00:00+00:00": 0, ...}, "watt_hours_period": {...},
"watt_hours": {...}, "watt_hours_day": {...}}, "message": {"code": 0, "type": "success",
"text": "", "info": {"place": "...", "time_zone": "UTC"}, "ratelimit": {"period": 3600,
"limit": 12, "remaining": 11}}}. Watts are the power at each instant: each interval up to the
next instant gets the mean of its two ends. Over the limit: HTTP 429 with message.code 429.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import field, finite, load_json
from hems.sources.planes import Plane, rounded_location
from hems.sources.series import Series

NAME = "forecastsolar"
DEFAULT_URL = "https://api.forecast.solar"


class ForecastSolarSource:
    name = NAME
    min_refresh_s = 3600.0
    max_calls_per_day = 0            # per hour limit; one call per plane per hour stays far below

    def __init__(self, latitude: float, longitude: float, planes: list[Plane], key: str | None = None,
                 base_url: str | None = None, timeout_s: float = 20.0) -> None:
        self.lat, self.lon = rounded_location(latitude, longitude)
        self.planes, self.key = planes, key
        self.url, self.timeout_s = (base_url or DEFAULT_URL).rstrip("/"), timeout_s

    async def fetch(self, session: aiohttp.ClientSession, now: datetime) -> Series:
        total: dict[float, list[float]] = {}
        for plane in self.planes:
            prefix = f"{self.url}/{self.key}" if self.key else self.url
            url = (f"{prefix}/estimate/{self.lat:.2f}/{self.lon:.2f}/{plane.tilt_deg:g}/"
                   f"{plane.azimuth_from_south_deg:g}/{plane.peak_w / 1000.0:g}")
            _, body = await request_text(session, NAME, url, now=now, params={"time": "utc"},
                                         timeout_s=self.timeout_s)
            for s, length, w in intervals(parse_watts(body)):
                total.setdefault(s, [length, 0.0])[1] += w
        if not total:
            raise SourceError(NAME, "not_published", "no estimate in the answer")
        return Series.build([(s, v[0], v[1]) for s, v in total.items()], NAME)


def parse_watts(text: str) -> list[tuple[float, float]]:
    """(instant UTC s, W) sorted."""
    doc = load_json(NAME, text)
    watts = field(NAME, doc, "result", "watts")
    if not isinstance(watts, dict):
        raise SourceError(NAME, "malformed", "result.watts is not an object")
    tz_name = (((doc.get("message") or {}).get("info") or {}).get("time_zone")) or "UTC"
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(NAME, "malformed", f"unknown time_zone {tz_name!r}") from None
    out = []
    for k, v in watts.items():
        try:
            t = datetime.fromisoformat(k.replace(" ", "T"))
        except ValueError:
            raise SourceError(NAME, "malformed", f"result.watts key {k!r} is not a time") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=tz)
        w = finite(NAME, v, f"result.watts[{k}]")
        if w < 0:
            raise SourceError(NAME, "malformed", f"result.watts[{k}] {w:g} W is negative")
        out.append((t.timestamp(), w))
    return sorted(out)


def intervals(points: list[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """Instants to intervals: [t_i, t_i+1) at the mean of both ends; gaps over 2 h (nights) left out."""
    rows = []
    for (t0, w0), (t1, w1) in zip(points, points[1:]):
        if 0 < t1 - t0 <= 7200:
            rows.append((t0, t1 - t0, (w0 + w1) / 2.0))
    return rows
