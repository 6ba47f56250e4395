"""Why a fetch failed, in words an installer can act on, and whether and when to try again."""
from __future__ import annotations

# kind          meaning                                           retry
# auth          the provider refused the token (401/403)           hours later (a person must fix it)
# not_found     unknown zone / site / product (404, 400)          hours later
# not_published the answer is valid but has no data yet           soon, with backoff
# rate_limited  429 (Retry-After honoured) or the daily quota      after Retry-After
# unavailable   5xx                                               backoff
# timeout       no answer within the timeout                      backoff
# connection    no network, DNS, refused                          backoff
# malformed     not the documented format, non-finite numbers     backoff (maybe a transient proxy page)
# mismatch      a valid answer for another zone / currency / unit hours later (a config problem)
KINDS = ("auth", "not_found", "not_published", "rate_limited", "unavailable", "timeout", "connection",
         "malformed", "mismatch")


class SourceError(Exception):
    """A fetch that gave nothing usable. `kind` is one of KINDS; `retry_after_s` what the provider
    asked for (429/503 Retry-After), if anything."""

    def __init__(self, source: str, kind: str, message: str, retry_after_s: float | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown source error kind {kind!r}")
        self.source, self.kind, self.message, self.retry_after_s = source, kind, message, retry_after_s
        super().__init__(f"{source}: {message}")
