"""S0 energy-meter pulse counting (IEC 62053-31): a debounced edge counter.

on_edge() is called from the pin interrupt (soft IRQ) with ticks_ms; it only does small-int
arithmetic on attributes created in __init__, so it allocates nothing.
"""


class PulseCounter:
    def __init__(self, ticks_diff, debounce_ms=20):
        self._diff = ticks_diff
        self.debounce_ms = debounce_ms    # S0 pulses last >= 30 ms: faster edges are bounce
        self.count = 0
        self.last_ms = 0
        self.interval_ms = 0              # between the last two pulses, 0 = not yet known
        self.seen = False
        self.bounces = 0

    def on_edge(self, now_ms):
        if self.seen:
            dt = self._diff(now_ms, self.last_ms)
            if dt < self.debounce_ms:
                self.bounces += 1
                return
            self.interval_ms = dt
        self.seen = True
        self.last_ms = now_ms
        self.count = (self.count + 1) & 0xFFFFFFFF

    def since_last_ms(self, now_ms):
        """ms since the last pulse (0xFFFFFFFF if none yet)."""
        if not self.seen:
            return 0xFFFFFFFF
        return min(self._diff(now_ms, self.last_ms), 0xFFFFFFFE)
