"""The contactor relay with its feedback contact: switching, delayed opening, welded check.

Pure logic over ticks in ms; the caller drives the pin and reads the feedback through the HAL.
Feedback is the mirror contact (or a mains-sense input after the contactor): True = closed.
"""


class Contactor:
    def __init__(self, ticks_diff, settle_ms=500, open_delay_ms=3000, feedback_wired=True):
        self._diff = ticks_diff
        self.settle_ms = settle_ms          # contactor operate/release time allowed
        self.open_delay_ms = open_delay_ms  # max wait for the car to stop before opening
        self.feedback_wired = feedback_wired
        self.closed = False                 # commanded state
        self._switched_ms = None
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
            self._stop_asked_ms = None
        return closed

    def check(self, now_ms, feedback_closed):
        """Compare the feedback with the command after the settle time; sets welded/stuck_open.
        Returns True when a new fault was found."""
        if not self.feedback_wired or self._switched_ms is None:
            if self.feedback_wired and feedback_closed and not self.closed:
                return self._raise_welded()      # closed at boot, never commanded
            return False
        if self._diff(now_ms, self._switched_ms) < self.settle_ms:
            return False
        if not self.closed and feedback_closed:
            return self._raise_welded()
        if self.closed and not feedback_closed and not self.stuck_open:
            self.stuck_open = True
            return True
        return False

    def _raise_welded(self):
        if self.welded:
            return False
        self.welded = True
        return True

    def clear(self, feedback_closed):
        """Clear latched faults whose cause is gone (a welded contact stays while it reads closed)."""
        if not (self.welded and feedback_closed and not self.closed):
            self.welded = False
        self.stuck_open = False
