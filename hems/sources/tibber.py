"""Tibber: the home's own retail prices (taxes included) over GraphQL, with the owner's token.

POST {base_url} (https://api.tibber.com/v1-beta/gql), Authorization: Bearer <token>,
{"query": "{ viewer { homes { id currentSubscription { priceInfo(resolution: QUARTER_HOURLY)
 { today { total energy startsAt currency } tomorrow { ... } } } } } }"}
Answer: {"data": {"viewer": {"homes": [{"id": "...", "currentSubscription": {"priceInfo":
{"today": [{"total": 0.31, "energy": 0.09, "startsAt": "2025-10-08T00:00:00.000+02:00",
"currency": "EUR"}], "tomorrow": []}}}]}}}; errors as {"errors": [{"message": ..,
"extensions": {"code": "UNAUTHENTICATED"}}]}. Only today and tomorrow are available;
tomorrow is empty until about 13:00 local time. import_value = total, value (spot) = energy.
"""
from __future__ import annotations

from datetime import datetime

import aiohttp

from hems.sources.errors import SourceError
from hems.sources.http import request_text
from hems.sources.intervals import lengths_from_starts
from hems.sources.parse import aware_time, field, finite, load_json
from hems.sources.series import Series

NAME = "tibber"
DEFAULT_URL = "https://api.tibber.com/v1-beta/gql"
QUERY = ("{ viewer { homes { id currentSubscription { priceInfo(resolution: QUARTER_HOURLY) { "
         "today { total energy startsAt currency } tomorrow { total energy startsAt currency } } } } } }")


class TibberSource:
    name = NAME

    def __init__(self, token: str, home_id: str | None = None, currency: str = "EUR",
                 base_url: str | None = None, timeout_s: float = 20.0) -> None:
        self.token, self.home_id, self.currency = token, home_id, currency
        self.url, self.timeout_s = base_url or DEFAULT_URL, timeout_s

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime, now: datetime) -> Series:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        _, body = await request_text(session, NAME, self.url, now=now, headers=headers,
                                     json_body={"query": QUERY}, timeout_s=self.timeout_s, ok_statuses=(200, 400))
        return parse_tibber(body, self.home_id, self.currency)


def parse_tibber(text: str, home_id: str | None, currency: str) -> Series:
    doc = load_json(NAME, text)
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if errors:
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        code = (first.get("extensions") or {}).get("code") if isinstance(first.get("extensions"), dict) else None
        msg = str(first.get("message", "unknown error"))[:160]
        kind = "auth" if code in ("UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN") else "malformed"
        raise SourceError(NAME, kind, f"Tibber refused the query: {msg}" + (" (check token_file)" if kind == "auth" else ""))
    homes = field(NAME, doc, "data", "viewer", "homes")
    if not isinstance(homes, list) or not homes:
        raise SourceError(NAME, "not_found", "this token sees no home")
    home = next((h for h in homes if isinstance(h, dict) and (home_id is None or h.get("id") == home_id)), None)
    if home is None:
        raise SourceError(NAME, "not_found", f"no home with id {home_id!r} behind this token")
    sub = home.get("currentSubscription")
    if not isinstance(sub, dict):
        raise SourceError(NAME, "not_found", "the home has no active subscription")
    info = field(NAME, sub, "priceInfo")
    items = [x for day in ("today", "tomorrow") for x in (field(NAME, info, day) or [])]
    parsed = []
    for i, x in enumerate(items):
        if field(NAME, x, "currency") != currency:
            raise SourceError(NAME, "mismatch", f"prices in {x.get('currency')!r}, not the tariff's currency {currency!r}")
        parsed.append((aware_time(NAME, field(NAME, x, "startsAt"), f"price[{i}].startsAt").timestamp(),
                       finite(NAME, field(NAME, x, "energy"), f"price[{i}].energy"),
                       finite(NAME, field(NAME, x, "total"), f"price[{i}].total")))
    if not parsed:
        raise SourceError(NAME, "not_published", "no prices published yet")
    parsed.sort()
    lengths = lengths_from_starts([p[0] for p in parsed], 900.0)
    return Series.build([(s, length, e) for (s, e, _), length in zip(parsed, lengths)], NAME,
                        [t for _, _, t in parsed])
