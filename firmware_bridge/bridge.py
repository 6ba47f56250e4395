"""The bridge: one cooperative step() that the main loop calls every millisecond or so.

Order inside a step: serial in -> watchdog -> zero crossings (frequency, droop) -> pilot
sampling and faults -> pilot output -> contactor -> status out -> serial out (never blocks)
-> hardware watchdog feed. Everything hardware goes through `hal` (hal_machine on the Pico,
hal_sim in tests). Interrupts may run inside any HAL call, so a value an interrupt stamped
can be newer than the step's now_ms: every age is clamped at 0 and kept as a saturating sum
of per-step differences (right across the 2**29 ms tick wrap).
"""
from firmware_bridge import protocol as P
from firmware_bridge import pilot
from firmware_bridge.config import DEFAULTS, FW_VERSION
from firmware_bridge.contactor import Contactor
from firmware_bridge.frequency import Droop, FrequencyEstimator
from firmware_bridge.outqueue import OutQueue
from firmware_bridge.watchdog import Watchdog

CAPABILITIES = 0x07  # bit0 pilot, bit1 frequency + droop, bit2 S0 pulses
NO_MAINS_MS = 200    # no zero crossing for this long: frequency unknown, F_NO_MAINS
RX_CHUNK = 64        # bytes read from the host per step at most


class Bridge:
    def __init__(self, hal, cfg=None, config_errors=(), restarts=0):
        self.hal = hal
        self.cfg = cfg = cfg if cfg is not None else dict(DEFAULTS)
        diff = hal.ticks_diff
        self.reader = P.FrameReader()
        self.out = OutQueue()
        self._rx = bytearray(RX_CHUNK)
        self._now_ms = 0
        self.watchdog = Watchdog(diff, cfg["watchdog_ms"])
        self.fallback_da = cfg["fallback_da"]
        self.freq = FrequencyEstimator(diff, cfg["freq_window"], cfg["freq_update"],
                                       cfg["nominal_mhz"])
        self.droop = Droop()
        self.droop.nominal_mhz = cfg["nominal_mhz"]
        self.monitor = pilot.PilotMonitor(cfg["pilot_debounce"])
        self.contactor = Contactor(diff, cfg["relay_settle_ms"], cfg["relay_open_delay_ms"],
                                   cfg["relay_feedback"], cfg["relay_fb_debounce"])
        self.set_da = 0
        self.relay_enable = False
        self.out_da = 0
        self.duty = None
        self.faults = ((P.F_BAD_CONFIG if config_errors else 0)
                       | (P.F_RESTARTED if restarts else 0))
        self.restarts = restarts
        self.config_errors = list(config_errors)
        self._seq = 0
        self._crossings = []
        self._had_mains = False
        self._quiet_ms = 0                 # since the last zero crossing, saturating
        now = hal.ticks_ms()
        self._prev_ms = now
        self._last_sample_ms = now
        self._last_report_ms = now
        self._apply_pilot(now)
        hal.set_relay(False)

    # ---- frames out ----
    def send(self, msg_type, values):
        """Queue a frame for the host (dropped and counted if the host stopped reading)."""
        self._seq = (self._seq + 1) & 0xFF
        self.out.put(P.message(msg_type, self._seq, values))

    def _ack(self, msg_type, seq, status):
        self.send(P.ACK, (msg_type, seq, status))

    def send_hello(self):
        self.send(P.HELLO_REPLY, (P.PROTOCOL_VERSION, FW_VERSION[0], FW_VERSION[1],
                                  FW_VERSION[2], CAPABILITIES, self.cfg["max_current_da"]))

    def announce(self):
        """HELLO_REPLY at (re)start, and a FAULT if the start carries faults already."""
        self.send_hello()
        if self.faults:
            self.send(P.FAULT, (self.faults, self.faults))

    def send_status(self, now_ms):
        hal = self.hal
        relay = (P.RL_COMMANDED if self.contactor.closed else 0)
        if self.contactor.feedback_wired:
            relay |= P.RL_FEEDBACK_WIRED | (P.RL_FEEDBACK if self.contactor.feedback else 0)
        flags = ((P.FL_WATCHDOG_TRIPPED if self.watchdog.tripped else 0)
                 | (P.FL_DROOP_ACTIVE if self.droop.active else 0)
                 | (P.FL_FREQ_VALID if self.freq.valid else 0)
                 | (P.FL_CHARGE_ENABLED if self.relay_enable else 0))
        pulses = hal.pulses
        self.send(P.STATUS, (
            now_ms, self.freq.freq_mhz if self.freq.valid else 0, ord(self.monitor.state),
            _clamp16(self.monitor.high_mv), _clamp16(self.monitor.low_mv),
            self.set_da, self.out_da, relay, self.faults, flags,
            pulses.total(), pulses.interval_ms, pulses.since_last_ms(),
            min(self.reader.bad_frames, 0xFFFF), min(self.watchdog.silent_ms(), 0xFFFF)))

    def _raise(self, bits):
        new = bits & ~self.faults
        self.faults |= bits
        if new:
            self.send(P.FAULT, (self.faults, new))

    # ---- frames in ----
    def _handle(self, frame, now_ms):
        version, msg_type, seq, payload = frame
        if msg_type == P.HELLO:
            self.send_hello()
            return
        values = P.unpack(msg_type, payload)
        if msg_type not in P.MESSAGES or msg_type >= 0x80:
            self.reader.bad_frames += 1
            self._ack(msg_type, seq, P.UNKNOWN_TYPE)
            return
        if values is None:
            self.reader.bad_frames += 1
            self._ack(msg_type, seq, P.BAD_LENGTH)
            return
        if msg_type == P.GET_STATUS:
            self.send_status(now_ms)
            return
        self._ack(msg_type, seq, self._command(msg_type, values, now_ms))

    def _command(self, msg_type, v, now_ms):
        hw_max = self.cfg["max_current_da"]
        if msg_type == P.HEARTBEAT:
            self.watchdog.feed(now_ms)
            self.faults &= ~P.F_WATCHDOG
            return P.OK
        if msg_type == P.SET_PILOT:
            if v[0] != 0 and not (pilot.MIN_CURRENT_DA <= v[0] <= hw_max):
                return P.OUT_OF_RANGE
            if v[0] and (self.watchdog.tripped or self.faults & P.LATCHED):
                return P.REFUSED
            self.set_da = v[0]
            return P.OK
        if msg_type == P.SET_RELAY:
            if v[0] > 1:
                return P.OUT_OF_RANGE
            if v[0] and (self.watchdog.tripped or self.faults & P.LATCHED):
                return P.REFUSED
            self.relay_enable = v[0] == 1
            return P.OK
        if msg_type == P.SET_DROOP:
            if v[0] > 1 or self.droop.configure(v[0], v[1], v[2], v[3], v[4], v[5], hw_max):
                return P.OUT_OF_RANGE
            return P.OK
        if msg_type == P.SET_WATCHDOG:
            if v[1] != 0 and not (pilot.MIN_CURRENT_DA <= v[1] <= hw_max):
                return P.OUT_OF_RANGE
            if self.watchdog.set_timeout(v[0]):
                return P.OUT_OF_RANGE
            self.fallback_da = v[1]
            return P.OK
        if msg_type == P.CLEAR_FAULTS:
            return self._clear_faults()
        return P.UNKNOWN_TYPE

    def _clear_faults(self):
        self.contactor.clear()
        self.monitor.diode_fault = False
        self.monitor.restart()
        keep = P.F_WELDED if self.contactor.welded else 0
        self.faults = (self.faults & ~(P.LATCHED | P.F_RESTARTED)) | keep
        return P.REFUSED if keep else P.OK

    # ---- the loop ----
    def step(self):
        hal = self.hal
        now_ms = hal.ticks_ms()
        elapsed = hal.ticks_diff(now_ms, self._prev_ms)
        self._prev_ms = now_ms
        self._now_ms = now_ms
        n = hal.serial_read_into(self._rx)
        if n:
            self.reader.feed_into(self._rx, n, self._on_frame)
        if self.watchdog.poll(now_ms):
            self._trip()
        self.hal.pulses.update_age(now_ms)
        self._frequency(elapsed if elapsed > 0 else 0)
        if hal.ticks_diff(now_ms, self._last_sample_ms) >= self.cfg["pilot_sample_ms"]:
            self._last_sample_ms = now_ms
            self._sample_pilot()
        self._apply_pilot(now_ms)
        self._drive_contactor(now_ms)
        if hal.ticks_diff(now_ms, self._last_report_ms) >= self.cfg["report_ms"]:
            self._last_report_ms = now_ms
            self.send_status(now_ms)
        self.out.flush(hal)
        hal.feed_watchdog()

    def _on_frame(self, frame):
        self._handle(frame, self._now_ms)

    def _trip(self):
        self.set_da = self.fallback_da
        if self.fallback_da == 0:
            self.relay_enable = False
        self._raise(P.F_WATCHDOG)

    def _frequency(self, elapsed_ms):
        crossings = self._crossings
        self.hal.take_crossings(crossings)
        if crossings:
            self._quiet_ms = 0
            for t in crossings:
                self.freq.add(t)
            del crossings[:]
        elif self._quiet_ms < NO_MAINS_MS:
            self._quiet_ms += elapsed_ms
            if self._quiet_ms >= NO_MAINS_MS:
                self.freq.reset()
        if self.freq.valid:
            self._had_mains = True
            self.faults &= ~P.F_NO_MAINS
        elif (self._had_mains and self._quiet_ms >= NO_MAINS_MS
              and not self.faults & P.F_NO_MAINS):
            self._raise(P.F_NO_MAINS)      # crossings stopped: frequency unknown

    def _sample_pilot(self):
        high, low = self.hal.read_pilot_mv()
        state = self.monitor.update(high, low, self.duty)
        raised = 0
        if self.monitor.diode_fault:
            raised |= P.F_DIODE
        if state == "E" or (state == "F" and self.duty != pilot.DUTY_STEADY_LOW):
            raised |= P.F_PILOT_ERROR
        if state == "D" and not self.cfg["allow_ventilation"]:
            raised |= P.F_VENT_REQUIRED
        elif state != "?":
            self.faults &= ~P.F_VENT_REQUIRED
        if raised:
            self._raise(raised)

    def _apply_pilot(self, now_ms):
        if self.faults & P.LATCHED:
            out = 0
            duty = pilot.DUTY_STEADY_LOW
        else:
            set_da = self.set_da if self.relay_enable else 0   # no offer the contactor won't honour
            out = self.droop.apply(set_da, self.freq.freq_mhz, self.freq.valid)
            out = min(out, self.cfg["max_current_da"])
            if self.watchdog.tripped:
                out = min(out, self.fallback_da)
            if 0 < out < pilot.MIN_CURRENT_DA:
                out = 0
            duty = pilot.current_to_duty(out)
        self.out_da = out
        if duty != self.duty:
            if self.duty == pilot.DUTY_STEADY_LOW or duty == pilot.DUTY_STEADY_LOW:
                self.monitor.restart()   # the level changes: judge on fresh samples only
            elif self.duty == pilot.DUTY_STEADY_HIGH or self.duty is None:
                self.monitor.pwm_started()   # see the diode again before closing
            self.duty = duty
            self.hal.set_pilot_duty(duty)

    def _drive_contactor(self, now_ms):
        state = self.monitor.state
        latched = self.faults & P.LATCHED
        asks = pilot.vehicle_wants_power(state, self.cfg["allow_ventilation"])
        want = (self.relay_enable and self.out_da >= pilot.MIN_CURRENT_DA and asks
                and not latched and self.monitor.diode_verified)
        drawing = state == "C" or state == "D"
        was = self.contactor.closed
        closed = self.contactor.decide(now_ms, want, drawing, bool(latched) or not drawing)
        if closed != was:
            self.hal.set_relay(closed)
        fb = self.hal.relay_feedback()
        if fb is not None and self.contactor.check(now_ms, fb):
            self._raise((P.F_WELDED if self.contactor.welded else 0)
                        | (P.F_RELAY_STUCK if self.contactor.stuck_open else 0))


def _clamp16(v):
    return -32768 if v < -32768 else (32767 if v > 32767 else v)
