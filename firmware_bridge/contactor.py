"""The contactor relay with its feedback contact: switching, delayed opening, welded check.

Pure logic over ticks in ms; the caller drives the pin and reads the feedback through the HAL.
Feedback (True = the main contacts are closed) is debounced: a reading counts only after
`debounce` equal reads in a row, so one noisy read never latches a fault. The settle time is
tracked by a flag, not by comparing stamps, so the checks keep running after the 2**29 ms
tick wrap.
"""


class Contactor:
    def __init__(self, ticks_diff, settle_ms=500, open_delay_ms=3000, feedback_wired=True,
                 debounce=5):
        self._diff = ticks_diff
        self.settle_ms = settle_ms          # contactor operate/release time allowed
        self.open_delay_ms = open_delay_ms  # max wait for the car to stop before opening
        self.feedback_wired = feedback_wired
        self.debounce = debounce            # equal feedback reads before a change counts
        self.closed = False                 # commanded state
        self.feedback = False               # debounced feedback
        self._fb_candidate = False
        self._fb_count = 0
        self._switched_ms = 0
        self._settling = False
        self._stop_asked_ms = None
        self.welded = False
        self.stuck_open = False

    def decide(self, now_ms, want_closed, car_drawing, immediate):
        """New commanded state.
        want_closed: every condition to deliver energy holds.
        car_drawing: the car still asks for energy (state C/D): opening waits for it to stop,
                     at most open_delay_ms, so the contactor does not break the load current.
        immediate:   a fault or a car that left C/D: open now."""
        if want_closed:
            self._stop_asked_ms = None
            return self._set(now_ms, True)
        if not self.closed:
            return False
        if immediate or not car_drawing:
            return self._set(now_ms, False)
        if self._stop_asked_ms is None:
            self._stop_asked_ms = now_ms
        if self._diff(now_ms, self._stop_asked_ms) >= self.open_delay_ms:
            return self._set(now_ms, False)
        return True

    def _set(self, now_ms, closed):
        if closed != self.closed:
            self.closed = closed
            self._switched_ms = now_ms
            self._settling = True
            self._stop_asked_ms = None
        return closed

    def filter(self, raw_closed):
        """Debounce one feedback read; returns the debounced state."""
        if raw_closed == self._fb_candidate:
            if self._fb_count < self.debounce:
                self._fb_count += 1
        else:
            self._fb_candidate = raw_closed
            self._fb_count = 1
        if self._fb_count >= self.debounce:
            self.feedback = raw_closed
        return self.feedback

    def check(self, now_ms, raw_closed):
        """Feed one feedback read and compare the debounced feedback with the command after
        the settle time; sets welded/stuck_open. Returns True when a new fault was found."""
        if not self.feedback_wired:
            return False
        fb = self.filter(raw_closed)
        if self._settling:
            if self._diff(now_ms, self._switched_ms) < self.settle_ms:
                return False
            self._settling = False
        if not self.closed and fb:
            return self._raise_welded()          # also: closed at boot, never commanded
        if self.closed and not fb and not self.stuck_open:
            self.stuck_open = True
            return True
        return False

    def _raise_welded(self):
        if self.welded:
            return False
        self.welded = True
        return True

    def clear(self):
        """Clear latched faults whose cause is gone (a welded contact stays while it reads closed)."""
        if not (self.welded and self.feedback and not self.closed):
            self.welded = False
        self.stuck_open = False
