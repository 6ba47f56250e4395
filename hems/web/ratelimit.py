"""Login attempt limiter: after `max_failures` failures within `window_s` a key is locked out.

Keys are the client address and the user name, so neither one address nor a spread of
addresses can guess one password quickly. Time comes from the injected clock.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_s)
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after_s(self, keys: list[str], now: datetime) -> float:
        """0 when every key may try now; otherwise seconds until the first may."""
        wait = 0.0
        for key in keys:
            q = self._recent(key, now)
            if len(q) >= self.max_failures:
                wait = max(wait, (q[-self.max_failures] + self.window - now).total_seconds())
        return wait

    def failed(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 10_000:          # bound memory under a flood of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
