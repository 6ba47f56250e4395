"""One HTTP request to a provider, every failure turned into a SourceError with its kind.

Secrets go in headers or the query as each provider documents; they are never logged (the URL
logged is the one without its query string).
"""
from __future__ import annotations

import asyncio
import math
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any

import aiohttp

from hems.sources.errors import SourceError

MAX_BODY_BYTES = 8 * 1024 * 1024       # a year of 15-min prices is ~3 MB of XML


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        s = float(value)
        return s if math.isfinite(s) and s >= 0 else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _status_error(source: str, status: int, body: str, retry: float | None) -> SourceError:
    snippet = " ".join(body.split())[:160]
    if status in (401, 403):
        return SourceError(source, "auth", f"the provider refused the token (HTTP {status}): check token_file")
    if status == 429:
        return SourceError(source, "rate_limited", f"rate limited (HTTP 429{f', retry after {retry:g} s' if retry is not None else ''})", retry)
    if status in (400, 404, 422):
        return SourceError(source, "not_found", f"HTTP {status}: unknown zone, site or product? {snippet}")
    if status >= 500:
        return SourceError(source, "unavailable", f"provider unavailable (HTTP {status})", retry)
    return SourceError(source, "malformed", f"unexpected HTTP {status}: {snippet}")


async def _read_body(resp: aiohttp.ClientResponse, source: str) -> bytes:
    """The whole body (read to the end: one read() may stop at any chunk), at most MAX_BODY_BYTES."""
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SourceError(source, "malformed", f"answer larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def request_text(session: aiohttp.ClientSession, source: str, url: str, *, now: datetime,
                       params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                       json_body: Any = None, timeout_s: float = 20.0, ok_statuses: tuple[int, ...] = (200,)
                       ) -> tuple[int, str]:
    """(status, body) of a GET (or a POST when json_body is given). Raises SourceError."""
    method = "POST" if json_body is not None else "GET"
    try:
        async with asyncio.timeout(timeout_s):
            async with session.request(method, url, params=params, headers=headers, json=json_body,
                                       timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                raw = await _read_body(resp, source)
                body = raw.decode(resp.charset or "utf-8", errors="replace")
                retry = retry_after_s(resp.headers.get("Retry-After"), now)
                if resp.status not in ok_statuses:
                    raise _status_error(source, resp.status, body, retry)
                return resp.status, body
    except SourceError:
        raise
    except (asyncio.TimeoutError, TimeoutError):
        raise SourceError(source, "timeout", f"no answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        detail = str(exc).split("?")[0]       # never a token from a query string
        raise SourceError(source, "connection", f"cannot reach {url.split('?')[0]} ({type(exc).__name__}: {detail})") from None
    except OSError as exc:
        raise SourceError(source, "connection", f"cannot reach {url.split('?')[0]} ({exc})") from None
