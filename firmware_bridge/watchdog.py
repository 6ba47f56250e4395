"""Host heartbeat watchdog: trips when the Pi stays silent for timeout_ms.

A trip is a state, not an event: the bridge forgets the host's pilot current and relay
permission, drives the fallback, and stays tripped until the next heartbeat. Ticks in ms.
"""

MIN_TIMEOUT_MS = 200
MAX_TIMEOUT_MS = 60000


class Watchdog:
    def __init__(self, ticks_diff, timeout_ms=3000):
        self._diff = ticks_diff
        self.timeout_ms = timeout_ms
        self._last_ms = None
        self.tripped = True            # nothing heard yet: safe until the first heartbeat
        self.tripped_at_ms = None

    def feed(self, now_ms):
        self._last_ms = now_ms
        self.tripped = False

    def set_timeout(self, timeout_ms):
        """Returns None if accepted, else why not."""
        if timeout_ms < MIN_TIMEOUT_MS or timeout_ms > MAX_TIMEOUT_MS:
            return "timeout must be %d..%d ms" % (MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)
        self.timeout_ms = timeout_ms
        return None

    def poll(self, now_ms):
        """True exactly once, when the watchdog trips."""
        if self.tripped or self._last_ms is None:
            return False
        if self._diff(now_ms, self._last_ms) >= self.timeout_ms:
            self.tripped = True
            self.tripped_at_ms = now_ms
            return True
        return False

    def silent_ms(self, now_ms):
        return 0 if self._last_ms is None else self._diff(now_ms, self._last_ms)
