"""Octopus Energy Agile (Great Britain): half-hourly retail import prices, no key for tariffs.

GET {base_url}/v1/products/{product}/electricity-tariffs/E-1R-{product}-{region}/standard-unit-rates/
    ?period_from=2025-01-01T00:00Z&period_to=2025-01-03T00:00Z&page_size=1500
Answer: {"count": n, "next": null, "previous": null, "results": [{"value_exc_vat": 18.1,
"value_inc_vat": 19.005, "valid_from": "2025-01-01T22:30:00Z", "valid_to": "2025-01-01T23:00:00Z",
"payment_method": null}]} with prices in pence per kWh, newest first. Region: the letter of
the grid supply point group (A..P). The price already is the retail price: import_value is
value_inc_vat, the "spot" column value_exc_vat (both in GBP per kWh).
"""
from __future__ import annotations

from datetime import datetime, timezone

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.parse import aware_time, field, finite, load_json
from hems.sources.series import Series

NAME = "octopus"
DEFAULT_URL = "https://api.octopus.energy"
REGIONS = tuple("ABCDEFGHJKLMNP")


class OctopusSource:
    name = NAME

    def __init__(self, product: str, region: str, currency: str = "GBP", base_url: str | None = None,
                 timeout_s: float = 20.0) -> None:
        self.product, self.region, self.currency = product, region, currency
        self.url, self.timeout_s = (base_url or DEFAULT_URL).rstrip("/"), timeout_s

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime) -> Series:
        if self.currency != "GBP":
            raise SourceError(NAME, "mismatch", f"Octopus prices are in GBP, the tariff's currency is {self.currency!r}")
        tariff = f"E-1R-{self.product}-{self.region}"
        url = f"{self.url}/v1/products/{self.product}/electricity-tariffs/{tariff}/standard-unit-rates/"
        iso = "%Y-%m-%dT%H:%MZ"
        params = {"period_from": start.astimezone(timezone.utc).strftime(iso),
                  "period_to": end.astimezone(timezone.utc).strftime(iso), "page_size": "1500"}
        _, body = await request_text(session, NAME, url, now=now, params=params, timeout_s=self.timeout_s)
        return parse_octopus(body)


def parse_octopus(text: str) -> Series:
    doc = load_json(NAME, text)
    results = field(NAME, doc, "results")
    if not isinstance(results, list):
        raise SourceError(NAME, "malformed", "results is not a list")
    rows, imports = [], []
    for i, r in enumerate(results):
        s = aware_time(NAME, field(NAME, r, "valid_from"), f"results[{i}].valid_from")
        e_raw = field(NAME, r, "valid_to")
        if e_raw is None:               # an open-ended (non-Agile) rate: one half hour per row
            raise SourceError(NAME, "mismatch", "rates without an end: not a half-hourly (Agile) product")
        e = aware_time(NAME, e_raw, f"results[{i}].valid_to")
        if e <= s:
            raise SourceError(NAME, "malformed", f"results[{i}] ends before it starts")
        rows.append((s.timestamp(), (e - s).total_seconds(),
                     finite(NAME, field(NAME, r, "value_exc_vat"), f"results[{i}].value_exc_vat") / 100.0))
        imports.append(finite(NAME, field(NAME, r, "value_inc_vat"), f"results[{i}].value_inc_vat") / 100.0)
    if not rows:
        raise SourceError(NAME, "not_published", "no rates published yet for this period")
    return Series.build(rows, NAME, imports)
