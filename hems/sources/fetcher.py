"""The bookkeeping every feed shares: when the next fetch is due, failures in a row, the last
error logged once (not at every retry) and the recovery logged once, for the status page."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from hems.sources.errors import SourceError
from hems.sources.schedule import wait_after_error

log = logging.getLogger("hems.sources")


@dataclass
class FetchLog:
    name: str
    next_at: datetime | None = None          # None: due now
    failures: int = 0
    last_attempt_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: SourceError | None = None

    def due(self, now: datetime) -> bool:
        """Due now; also when the next fetch lies absurdly far ahead (the clock stepped back)."""
        return self.next_at is None or now >= self.next_at or self.next_at - now > timedelta(hours=25)

    def failed(self, err: SourceError, now: datetime) -> None:
        self.failures += 1
        self.last_attempt_at = now
        wait = wait_after_error(err, self.failures)
        self.next_at = now + timedelta(seconds=wait)
        same = self.last_error is not None and (self.last_error.kind, self.last_error.message) == (err.kind, err.message)
        (log.debug if same else log.warning)("%s; keeping the last good data, next try in %.0f min",
                                             err, wait / 60.0)
        self.last_error = err

    def succeeded(self, now: datetime, next_at: datetime) -> None:
        if self.last_error is not None:
            log.info("%s: fetching works again", self.name)
        self.failures, self.last_error = 0, None
        self.last_attempt_at = self.last_ok_at = now
        self.next_at = next_at

    def status(self) -> dict[str, object]:
        iso = (lambda t: t.isoformat() if t is not None else None)
        return {"last_ok_at": iso(self.last_ok_at), "next_fetch_at": iso(self.next_at),
                "last_error": str(self.last_error) if self.last_error else None,
                "last_error_kind": self.last_error.kind if self.last_error else None}
