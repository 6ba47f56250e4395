"""Keeps the bridge up: any exception inside a step makes the outputs safe at once and the
bridge restarts cleanly after a pause; the loop itself never ends.

On an exception from anywhere in Bridge.step() (a HAL call, a bug, MemoryError):
  1. in the same step: pilot to -12 V (state F, "EVSE not available") and contactor open,
     each in its own try, so a broken output cannot keep the other one live;
  2. for `restart_delay_ms` (doubling after each failure that follows a restart by less than
     GOOD_STEPS clean steps, up to 30 s): outputs held
     safe, the hardware watchdog fed (a reset would not fix a broken part and would loop);
  3. then a fresh Bridge (nothing kept but the settings), announced to the host with
     HELLO_REPLY and a FAULT carrying F_RESTARTED. It starts with the heartbeat watchdog
     tripped, so nothing is offered to the car until the host speaks again.
Nothing is printed: the USB line carries only frames, and the loop never falls back to the
REPL (whose 0x01/0x04 control bytes host frames may contain).
"""
from firmware_bridge.pilot import DUTY_STEADY_LOW

MAX_DELAY_MS = 30000
GOOD_STEPS = 10000          # steps without an error (about 10 s) before the delay is reset


class Supervisor:
    def __init__(self, hal, make_bridge, restart_delay_ms=1000):
        self.hal = hal
        self._make = make_bridge            # make_bridge(restarts) -> Bridge
        self.delay_ms = restart_delay_ms
        self._base_delay_ms = restart_delay_ms
        self.bridge = None
        self.restarts = 0
        self.failures_in_row = 0
        self.last_error = None              # type name of the last exception
        self._held_ms = 0
        self._held_at = 0
        self._good_steps = 0

    def start(self):
        self.bridge = self._make(self.restarts)
        self.bridge.announce()

    def step(self):
        try:
            if self.bridge is None:
                if not self._hold():
                    return
                self.restarts += 1
                self.start()
            self.bridge.step()
            if self.failures_in_row:
                self._good_steps += 1
                if self._good_steps >= GOOD_STEPS:      # ran cleanly for a while
                    self.failures_in_row = 0
                    self.delay_ms = self._base_delay_ms
        except Exception as exc:  # noqa: BLE001 - anything: make safe, restart later
            self._fail(exc)

    def _fail(self, exc):
        self.bridge = None
        self.last_error = type(exc).__name__
        safe_outputs(self.hal)
        if self.failures_in_row:
            self.delay_ms = min(self.delay_ms * 2, MAX_DELAY_MS)
        self.failures_in_row += 1
        self._good_steps = 0
        self._held_ms = 0
        try:
            self._held_at = self.hal.ticks_ms()
        except Exception:  # noqa: BLE001
            self._held_at = 0

    def _hold(self):
        """Outputs safe until the restart delay is over; True when it is."""
        hal = self.hal
        safe_outputs(hal)
        now = hal.ticks_ms()
        step = hal.ticks_diff(now, self._held_at)
        self._held_at = now
        if step > 0:
            self._held_ms += step
        hal.feed_watchdog()
        return self._held_ms >= self.delay_ms


def safe_outputs(hal):
    """Pilot -12 V and contactor open; each attempted even if the other fails."""
    try:
        hal.set_relay(False)
    except Exception:  # noqa: BLE001
        pass
    try:
        hal.set_pilot_duty(DUTY_STEADY_LOW)
    except Exception:  # noqa: BLE001
        pass
