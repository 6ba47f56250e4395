"""ENTSO-E Transparency Platform: day-ahead prices (document type A44, section 12.1.D).

GET {base_url}?securityToken=..&documentType=A44&in_Domain=EIC&out_Domain=EIC
    &periodStart=YYYYMMDDHHMM&periodEnd=YYYYMMDDHHMM   (UTC)
Answer: Publication_MarketDocument (IEC 62325-451-3) with TimeSeries (currency_Unit.name,
price_Measure_Unit.name = MWH, curveType A01 or A03) of Periods (timeInterval start/end,
resolution PT15M / PT30M / PT60M) of Points (position from 1, price.amount). With curve A03 a
position left out repeats the price before it up to the next position or the period's end.
No data yet: an Acknowledgement_MarketDocument (Reason code 999, "No matching data found").
"""
from __future__ import annotations

import bisect
import math
import re
from datetime import datetime, timezone
from xml.etree.ElementTree import Element

import aiohttp
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import aware_time, finite
from hems.sources.series import Series

NAME = "entsoe"
DEFAULT_URL = "https://web-api.tp.entsoe.eu/api"
_RESOLUTION = re.compile(r"PT(\d+)M|PT(\d+)H|P1D")


class EntsoeSource:
    name = NAME

    def __init__(self, token: str, zone: str, currency: str = "EUR", base_url: str | None = None,
                 timeout_s: float = 20.0) -> None:
        self.token, self.zone, self.currency = token, zone, currency
        self.url, self.timeout_s = base_url or DEFAULT_URL, timeout_s

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime) -> Series:
        params = {"securityToken": self.token, "documentType": "A44", "in_Domain": self.zone,
                  "out_Domain": self.zone, "periodStart": _stamp(start), "periodEnd": _stamp(end)}
        # the platform answers 400 with an acknowledgement document for "no data" on some queries
        _, body = await request_text(session, NAME, self.url, now=now, params=params,
                                     timeout_s=self.timeout_s, ok_statuses=(200, 400))
        return parse_a44(body, self.zone, self.currency)


def _stamp(t: datetime) -> str:
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y%m%d%H") + "00"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: Element, *names: str) -> str | None:
    cur: Element | None = el
    for n in names:
        cur = _child(cur, n) if cur is not None else None
    return cur.text.strip() if cur is not None and cur.text else None


def resolution_s(text: str | None) -> int:
    m = _RESOLUTION.fullmatch(text or "")
    if not m:
        raise SourceError(NAME, "malformed", f"unknown resolution {text!r}")
    if m.group(1):
        return int(m.group(1)) * 60
    if m.group(2):
        return int(m.group(2)) * 3600
    return 86400


def parse_a44(xml_text: str, zone: str, currency: str) -> Series:
    """Spot prices per kWh from an A44 document; SourceError for anything else."""
    try:
        root = SafeET.fromstring(xml_text.encode("utf-8"))
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise SourceError(NAME, "malformed", f"not valid XML ({str(exc)[:100]})") from None
    kind = _local(root.tag)
    if kind == "Acknowledgement_MarketDocument":
        code, text = _text(root, "Reason", "code"), _text(root, "Reason", "text") or ""
        if code == "999" and "no matching data" in text.lower():
            raise SourceError(NAME, "not_published", "no prices published yet for this period")
        raise SourceError(NAME, "not_found", f"the platform refused the query (reason {code}: {text[:160]})")
    if kind != "Publication_MarketDocument":
        raise SourceError(NAME, "malformed", f"unexpected document {kind!r}")
    rows: list[tuple[float, float, float]] = []
    for ts in (c for c in root if _local(c.tag) == "TimeSeries"):
        rows += _timeseries(ts, zone, currency)
    if not rows:
        raise SourceError(NAME, "not_published", "the document holds no prices")
    return Series.build(finest(rows), NAME)


def finest(rows: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Where two time series cover the same time (a zone publishing both 60- and 15-minute
    products), the shorter intervals win; the longer ones overlapping them are dropped."""
    kept: list[tuple[float, float]] = []          # (start, end), sorted
    out = []
    for start, length, price in sorted(rows, key=lambda r: (r[1], r[0])):
        end = start + length
        i = bisect.bisect_left(kept, (start, end))
        clash = (i > 0 and kept[i - 1][1] > start) or (i < len(kept) and kept[i][0] < end)
        if not clash:
            kept.insert(i, (start, end))
            out.append((start, length, price))
    return out


def _timeseries(ts: Element, zone: str, currency: str) -> list[tuple[float, float, float]]:
    domain = _text(ts, "in_Domain.mRID") or _text(ts, "out_Domain.mRID")
    if domain != zone:
        raise SourceError(NAME, "mismatch", f"answer is for zone {domain!r}, not the configured {zone!r}")
    cur = _text(ts, "currency_Unit.name")
    if cur != currency:
        raise SourceError(NAME, "mismatch", f"prices in {cur!r}, not the tariff's currency {currency!r}")
    unit = _text(ts, "price_Measure_Unit.name")
    if unit != "MWH":
        raise SourceError(NAME, "mismatch", f"prices per {unit!r}, expected per MWH")
    curve = _text(ts, "curveType") or "A01"
    rows = []
    for period in (c for c in ts if _local(c.tag) == "Period"):
        rows += _period(period, curve)
    return rows


def _period(period: Element, curve: str) -> list[tuple[float, float, float]]:
    start = aware_time(NAME, _text(period, "timeInterval", "start"), "Period.timeInterval.start")
    end = aware_time(NAME, _text(period, "timeInterval", "end"), "Period.timeInterval.end")
    step = resolution_s(_text(period, "resolution"))
    n = int(round((end - start).total_seconds() / step))
    if n <= 0 or n > 2000 or abs((end - start).total_seconds() - n * step) > 1:
        raise SourceError(NAME, "malformed", f"period {start:%Y-%m-%d %H:%M}Z..{end:%H:%M}Z is not a whole number of {step} s steps")
    prices: dict[int, float] = {}
    for pt in (c for c in period if _local(c.tag) == "Point"):
        pos = finite(NAME, _text(pt, "position"), "Point.position")
        if not pos.is_integer() or not 1 <= pos <= n:
            raise SourceError(NAME, "malformed", f"Point.position {pos:g} outside 1..{n}")
        prices[int(pos)] = finite(NAME, _text(pt, "price.amount"), "Point.price.amount") / 1000.0
    if not prices:
        return []
    if curve == "A03":          # variable sized blocks: a left-out position repeats the one before
        if 1 not in prices:
            raise SourceError(NAME, "malformed", "curve A03 without position 1")
        last = math.nan
        for pos in range(1, n + 1):
            last = prices.setdefault(pos, last)
    t0 = start.timestamp()
    return [(t0 + (pos - 1) * step, float(step), p) for pos, p in sorted(prices.items())]

