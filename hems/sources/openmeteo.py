"""Open-Meteo: global tilted irradiance (GTI) per plane at 15 minutes, no key.

GET {base_url}?latitude=48.83&longitude=6.86&minutely_15=global_tilted_irradiance&tilt=35
    &azimuth=0&forecast_days=3&timezone=GMT
(azimuth: 0 = south, -90 = east, 90 = west). Answer: {"latitude": .., "longitude": ..,
"utc_offset_seconds": 0, "minutely_15_units": {"time": "iso8601", "global_tilted_irradiance":
"W/m²"}, "minutely_15": {"time": ["2025-06-01T00:00", ...], "global_tilted_irradiance": [0.0, ...]}}.
Radiation is the mean over the 15 minutes before each time stamp. An error is
{"error": true, "reason": "..."} with HTTP 400. One call per plane; power = peak x derate x GTI/1000.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import field, finite, load_json
from hems.sources.planes import DERATE, Plane, rounded_location
from hems.sources.series import Series

NAME = "openmeteo"
DEFAULT_URL = "https://api.open-meteo.com/v1/forecast"
STEP_S = 900.0


class OpenMeteoSource:
    name = NAME
    min_refresh_s = 3600.0           # the models update hourly at best
    max_calls_per_day = 0            # no quota that matters (10 000 a day)

    def __init__(self, latitude: float, longitude: float, planes: list[Plane], base_url: str | None = None,
                 timeout_s: float = 20.0) -> None:
        self.lat, self.lon = rounded_location(latitude, longitude)
        self.planes, self.url, self.timeout_s = planes, base_url or DEFAULT_URL, timeout_s

    async def fetch(self, session: aiohttp.ClientSession, now: datetime) -> Series:
        total: dict[float, float] = {}
        for plane in self.planes:
            params = {"latitude": f"{self.lat:.2f}", "longitude": f"{self.lon:.2f}",
                      "minutely_15": "global_tilted_irradiance", "tilt": f"{plane.tilt_deg:g}",
                      "azimuth": f"{plane.azimuth_from_south_deg:g}", "forecast_days": "3", "timezone": "GMT"}
            _, body = await request_text(session, NAME, self.url, now=now, params=params,
                                         timeout_s=self.timeout_s, ok_statuses=(200, 400))
            for start, gti in parse_gti(body):
                w = min(plane.peak_w, plane.peak_w * DERATE * max(gti, 0.0) / 1000.0)
                total[start] = total.get(start, 0.0) + w
        if not total:
            raise SourceError(NAME, "not_published", "no irradiance forecast in the answer")
        return Series.build([(s, STEP_S, w) for s, w in total.items()], NAME)


def parse_gti(text: str) -> list[tuple[float, float]]:
    """(interval start UTC s, GTI W/m2) pairs; nulls (not forecast) left out."""
    doc = load_json(NAME, text)
    if isinstance(doc, dict) and doc.get("error"):
        raise SourceError(NAME, "not_found", f"Open-Meteo refused the query: {str(doc.get('reason'))[:160]}")
    offset = finite(NAME, doc.get("utc_offset_seconds", 0) if isinstance(doc, dict) else None, "utc_offset_seconds")
    unit = field(NAME, doc, "minutely_15_units", "global_tilted_irradiance")
    if unit not in ("W/m²", "W/m2"):
        raise SourceError(NAME, "mismatch", f"irradiance in {unit!r}, expected W/m²")
    times = field(NAME, doc, "minutely_15", "time")
    values = field(NAME, doc, "minutely_15", "global_tilted_irradiance")
    if not isinstance(times, list) or not isinstance(values, list) or len(times) != len(values):
        raise SourceError(NAME, "malformed", "time and global_tilted_irradiance are not lists of one length")
    out = []
    for i, (t, v) in enumerate(zip(times, values)):
        if v is None:
            continue
        try:
            end = datetime.fromisoformat(str(t)).replace(tzinfo=timezone.utc) - timedelta(seconds=offset)
        except ValueError:
            raise SourceError(NAME, "malformed", f"time[{i}] {t!r} is not an ISO 8601 time") from None
        gti = finite(NAME, v, f"global_tilted_irradiance[{i}]")
        if gti > 1600.0:
            raise SourceError(NAME, "malformed", f"global_tilted_irradiance[{i}] {gti:g} W/m² is not plausible")
        out.append((end.timestamp() - STEP_S, gti))
    return out
