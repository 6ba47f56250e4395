"""S0 energy-meter pulse counting (IEC 62053-31): a debounced edge counter.

on_edge() is called from the pin interrupt with ticks_ms; it only does small-int arithmetic
on attributes created in __init__, so it allocates nothing, even on a 32-bit port: the count
is kept as 30 bits plus a wrap counter and only combined into the 32-bit protocol value in
the main loop (total()).

The age of the last pulse is kept by the main loop (update_age() every step) as a sum of
per-step tick differences, saturating: it stays right across the 2**29 ms tick wrap and
when a pulse arrives after the step read its clock (the interrupt may run inside any HAL call).
"""
AGE_MAX_MS = 0xFFFFFFFE
NO_PULSE = 0xFFFFFFFF


class PulseCounter:
    def __init__(self, ticks_diff, debounce_ms=20):
        self._diff = ticks_diff
        self.debounce_ms = debounce_ms    # S0 pulses last >= 30 ms: faster edges are bounce
        self.count = 0                    # low 30 bits of the pulse count
        self.wraps = 0                    # times count wrapped past 2**30
        self.last_ms = 0
        self.interval_ms = 0              # between the last two pulses, 0 = not yet known
        self.seen = False
        self.bounces = 0
        self._aged_count = -1             # count when the age was last brought up to date
        self._aged_wraps = 0
        self._age_ms = NO_PULSE
        self._age_at_ms = 0

    def on_edge(self, now_ms):
        if self.seen:
            dt = self._diff(now_ms, self.last_ms)
            if 0 <= dt < self.debounce_ms:
                self.bounces += 1
                return
            if dt > 0:
                self.interval_ms = dt
        self.seen = True
        self.last_ms = now_ms
        if self.count == 0x3FFFFFFF:           # count + 1 would not be a small int
            self.count = 0
            self.wraps = (self.wraps + 1) & 3
        else:
            self.count += 1

    def total(self):
        """The pulse count as the protocol's u32 (wraps at 2**32). Main loop only."""
        return (self.wraps << 30) | self.count

    def update_age(self, now_ms):
        """Bring the age of the last pulse up to now_ms; call once per main-loop step."""
        if not self.seen:
            return NO_PULSE
        if self.count != self._aged_count or self.wraps != self._aged_wraps:
            self._aged_count = self.count
            self._aged_wraps = self.wraps
            age = self._diff(now_ms, self.last_ms)
            self._age_ms = age if age > 0 else 0      # the pulse came after now_ms was read
        else:
            step = self._diff(now_ms, self._age_at_ms)
            if step > 0:
                age = self._age_ms + step
                self._age_ms = age if age < AGE_MAX_MS else AGE_MAX_MS
        self._age_at_ms = now_ms
        return self._age_ms

    def since_last_ms(self):
        """ms since the last pulse as of the last update_age() (0xFFFFFFFF if none yet)."""
        return self._age_ms if self.seen else NO_PULSE
