"""The two interfaces every provider module implements, and how to read a secret from a file."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

import aiohttp

from hems.sources.series import Series


class PriceSource(Protocol):
    """Day-ahead prices. fetch gives spot price per kWh (and, for retail providers, the import
    price per kWh) for the intervals it knows in [start, end); raises SourceError."""
    name: str
    currency: str

    async def fetch(self, session: aiohttp.ClientSession, start: datetime, end: datetime,
                    now: datetime) -> Series: ...


class PvSource(Protocol):
    """A PV power forecast (W, + generation, all planes together) from now on; raises SourceError.
    min_refresh_s: the shortest sensible time between two calls (rate limits, update cadence)."""
    name: str
    min_refresh_s: float

    async def fetch(self, session: aiohttp.ClientSession, now: datetime) -> Series: ...


def read_secret(path: Path | None, key: str) -> str:
    """The token in a file (first line, stripped). ValueError naming the config key when unusable."""
    if path is None:
        raise ValueError(f"{key}: missing: this source needs a token file")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{key}: cannot read {path} ({exc.strerror})") from None
    token = text.splitlines()[0].strip() if text else ""
    if not token:
        raise ValueError(f"{key}: {path} is empty: put the provider's token in it")
    return token
