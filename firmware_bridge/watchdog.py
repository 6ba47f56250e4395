"""Host heartbeat watchdog: trips when the Pi stays silent for timeout_ms.

A trip is a state, not an event: the bridge forgets the host's pilot current and relay
permission, drives the fallback, and stays tripped until the next heartbeat. Ticks in ms.
The silence is summed from per-poll tick differences and saturates at SILENT_MAX_MS, so it
stays right across the 2**29 ms tick wrap (ticks_diff of two stamps further apart goes wrong).
"""

MIN_TIMEOUT_MS = 200
MAX_TIMEOUT_MS = 60000
SILENT_MAX_MS = 0x3FFFFFFF


class Watchdog:
    def __init__(self, ticks_diff, timeout_ms=3000):
        self._diff = ticks_diff
        self.timeout_ms = timeout_ms
        self._fed = False
        self._silent_ms = 0
        self._polled_ms = None
        self.tripped = True            # nothing heard yet: safe until the first heartbeat
        self.tripped_at_ms = None

    def feed(self, now_ms):
        self._fed = True
        self._silent_ms = 0
        self._polled_ms = now_ms
        self.tripped = False

    def set_timeout(self, timeout_ms):
        """Returns None if accepted, else why not."""
        if timeout_ms < MIN_TIMEOUT_MS or timeout_ms > MAX_TIMEOUT_MS:
            return "timeout must be %d..%d ms" % (MIN_TIMEOUT_MS, MAX_TIMEOUT_MS)
        self.timeout_ms = timeout_ms
        return None

    def poll(self, now_ms):
        """Advance the silence to now_ms; True exactly once, when the watchdog trips."""
        if self._polled_ms is not None:
            step = self._diff(now_ms, self._polled_ms)
            if step > 0:
                s = self._silent_ms + step
                self._silent_ms = s if s < SILENT_MAX_MS else SILENT_MAX_MS
        self._polled_ms = now_ms
        if self.tripped or not self._fed:
            return False
        if self._silent_ms >= self.timeout_ms:
            self.tripped = True
            self.tripped_at_ms = now_ms
            return True
        return False

    def silent_ms(self):
        """ms since the last heartbeat as of the last poll (0 before the first)."""
        return self._silent_ms if self._fed else 0
