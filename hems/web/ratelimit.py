"""Login attempt limiter: after `max_failures` failures within `window_s` a key is locked out.

Keys are the client address and the user name, so neither one address nor a spread of
addresses can guess one password quickly. Times are monotonic seconds (the clock's
monotonic()), so a wall-clock step neither lifts nor prolongs a lock.

Memory is bounded (`max_keys`). When a flood of addresses or names fills it, keys that are
not locked go first, oldest first; a locked key (the admin's, say) is never evicted to make
room, so spraying failed logins from many addresses cannot lift the lock on a user.
"""
from __future__ import annotations

from collections import deque


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 300.0, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now_s: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now_s - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def locked(self, key: str, now_s: float) -> bool:
        return len(self._recent(key, now_s)) >= self.max_failures

    def retry_after_s(self, keys: list[str], now_s: float) -> float:
        """0 when every key may try now; otherwise seconds until the first may."""
        wait = 0.0
        for key in keys:
            q = self._recent(key, now_s)
            if len(q) >= self.max_failures:
                wait = max(wait, q[-self.max_failures] + self.window_s - now_s)
        return wait

    def failed(self, keys: list[str], now_s: float) -> None:
        for key in keys:
            self._recent(key, now_s)
            self._failures.setdefault(key, deque()).append(now_s)
        if len(self._failures) > self.max_keys:
            self._evict(now_s)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _evict(self, now_s: float) -> None:
        """Bring the table down to 90 % of max_keys: expired keys, then unlocked keys oldest
        first; locked keys stay (they expire by themselves within window_s)."""
        target = int(self.max_keys * 0.9)
        for key in list(self._failures):
            if len(self._failures) <= target:
                return
            q = self._recent(key, now_s)
            if q and len(q) < self.max_failures:
                del self._failures[key]
