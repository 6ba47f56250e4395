"""Simulated bridge hardware: a clock, the serial line, a car on the pilot, the contactor,
the mains zero-crossing detector and an S0 meter. Runs under CPython and MicroPython.

Time is simulated (advance() / run()) so tests are exact and fast; ticks wrap at 2**30 like
MicroPython's, and `start_us` lets a test start just before a wrap. Noise comes from a seeded
xorshift generator with integer arithmetic, so both interpreters see the same signals.

Interrupts are delivered as on the Pico: inside every HAL call (each may take `call_us` of
simulated time, and `on_call(name)` may inject more), with the heap locked under MicroPython
(micropython.heap_lock), so a handler that allocates raises MemoryError here as it would in a
hard IRQ. `fail_call` makes a chosen HAL call raise. The serial line can model a host that
stops reading (`tx_capacity`): a write larger than the room left blocks `tx_block_us`, as the
RP2040's USB CDC write does. The pilot can be captured as a waveform (`pilot_wave`) with
noise, ringing after each edge and spikes, sampled like the ADC+DMA capture.
"""
from firmware_bridge import pilot
from firmware_bridge.edges import EdgeRing
from firmware_bridge.pulses import PulseCounter

try:
    from micropython import heap_lock, heap_unlock
except ImportError:          # CPython: nothing to lock
    def heap_lock():
        pass

    def heap_unlock():
        pass

TICKS_PERIOD = 1 << 30
TICKS_MASK = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD >> 1

# pilot high level (mV) a car presents in each state, with the EVSE driving +12 V
CAR_LEVEL_MV = {"A": 12000, "B": 9000, "C": 6000, "D": 3000, "E": 0}


def ticks_diff(a, b):
    """Signed difference a - b of two wrapping tick values (MicroPython's time.ticks_diff).
    Small ints only on a 32-bit port (|a - b| < 2**30), so it allocates nothing in an IRQ."""
    d = (a - b) & TICKS_MASK
    if d >= TICKS_HALF:
        d = d - TICKS_HALF - TICKS_HALF
    return d


class Rng:
    """xorshift32: identical sequences under CPython and MicroPython."""

    def __init__(self, seed=1):
        self.s = (seed & 0xFFFFFFFF) or 1

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n

    def gauss(self, sigma):
        """Approximately normal integer with standard deviation sigma (Irwin-Hall, 12 terms)."""
        total = 0
        for _ in range(12):
            total += self.next() & 0xFFFF
        return ((total - 6 * 65536) * sigma) // 65536


class Mains:
    """Rising zero crossings of a mains voltage whose frequency follows freq_fn(t_us) -> mHz.
    Detector imperfections: Gaussian timing jitter, chatter (a second edge just after the
    first), impulse noise (an edge anywhere in the cycle) and missed crossings, each with a
    probability in parts per million per cycle."""

    def __init__(self, freq_fn, jitter_us=0, seed=7, chatter_ppm=0, spurious_ppm=0,
                 missed_ppm=0, start_us=0, double_edge=False, half_offset_us=0):
        self.freq_fn = freq_fn
        self.double_edge = double_edge        # a second edge every half cycle (H11AA1 & co)
        self.half_offset_us = half_offset_us  # asymmetry of that second edge
        self.jitter_us = jitter_us
        self.chatter_ppm = chatter_ppm
        self.spurious_ppm = spurious_ppm
        self.missed_ppm = missed_ppm
        self.rng = Rng(seed)
        self.enabled = True
        self._next_ns = start_us * 1000 + 3000000     # first crossing 3 ms in
        self._pending = []                              # measured edge times, us, sorted
        self.true_us = []                               # true crossing times (for tests)
        self.keep_truth = False

    def edges_until(self, now_us):
        """Measured edge times (absolute us) up to now_us, in order."""
        if not self.enabled and self._next_ns < now_us * 1000:
            period_ns = 10 ** 12 // self.freq_fn(now_us)     # no signal: skip ahead
            self._next_ns += (now_us * 1000 - self._next_ns) // period_ns * period_ns
        while self._next_ns // 1000 <= now_us + 1000:
            self._cycle()
        out = []
        while self._pending and self._pending[0] <= now_us:
            out.append(self._pending.pop(0))
        return out

    def _cycle(self):
        t_ns = self._next_ns
        t_us = t_ns // 1000
        f_mhz = self.freq_fn(t_us)
        period_ns = 10 ** 12 // f_mhz
        self._next_ns = t_ns + period_ns
        if not self.enabled:
            return
        if self.keep_truth:
            self.true_us.append(t_ns)
        rng = self.rng
        edges = []
        if rng.below(1000000) >= self.missed_ppm:
            edge = t_us + rng.gauss(self.jitter_us)
            edges.append(edge)
            if rng.below(1000000) < self.chatter_ppm:
                edges.append(edge + 20 + rng.below(300))
        if self.double_edge:
            edges.append(t_us + period_ns // 2000 + self.half_offset_us
                         + rng.gauss(self.jitter_us))
        if rng.below(1000000) < self.spurious_ppm:
            edges.append(t_us + rng.below(period_ns // 1000))
        for e in edges:
            self._insert(e)

    def _insert(self, e):
        p = self._pending
        i = len(p)
        while i > 0 and p[i - 1] > e:
            i -= 1
        p.insert(i, e)


class S0Meter:
    """An S0 output: one pulse per 1/imp_per_kwh kWh at power_w, optional contact bounce."""

    def __init__(self, imp_per_kwh=1000, power_w=0, bounce=False):
        self.imp_per_kwh = imp_per_kwh
        self.power_w = power_w
        self.bounce = bounce
        self._energy_uwh = 0           # since the last pulse, micro-Wh
        self._last_us = None
        self.emitted = 0

    def edges_until(self, now_us):
        """Edge times (us) of pulses completed by now_us."""
        if self._last_us is None:
            self._last_us = now_us
            return []
        out = []
        per_pulse_uwh = 10 ** 9 // self.imp_per_kwh
        t = self._last_us
        while True:
            need = per_pulse_uwh - self._energy_uwh
            if self.power_w <= 0:
                break
            dt_us = (need * 3600 + self.power_w - 1) // self.power_w   # uWh / W -> us: *3600
            if t + dt_us > now_us:
                break
            t += dt_us
            self._energy_uwh = 0
            out.append(t)
            self.emitted += 1
            if self.bounce:
                out.append(t + 2000)
        if self.power_w > 0:
            self._energy_uwh += (now_us - t) * self.power_w // 3600
        self._last_us = now_us
        return out


class PilotWave:
    """One ADC capture of the pilot over a PWM period (1 kHz), as the DMA takes it: `n`
    samples every `sample_us` from a random phase, in mV. Noise (uniform, `noise_mv` RMS),
    a linearly decaying overshoot of `ring_mv` for `ring_us` after each edge, and a spike of
    +-`spike_mv` on a sample with probability `spike_ppm`."""

    def __init__(self, rng, n=250, sample_us=4, noise_mv=100, ring_mv=0, ring_us=12,
                 spike_mv=0, spike_ppm=0):
        self.rng = rng
        self.n = n
        self.sample_us = sample_us
        self.noise_mv = noise_mv
        self.ring_mv = ring_mv
        self.ring_us = ring_us
        self.spike_mv = spike_mv
        self.spike_ppm = spike_ppm
        self.samples = [0] * n

    def capture(self, duty, high_mv, low_mv):
        rng = self.rng
        phase0 = rng.below(1000)
        on_us = 1000 if duty >= 1000 else duty       # permille of 1000 us
        a = self.noise_mv * 1732 // 1000             # uniform +-a has RMS noise_mv
        for i in range(self.n):
            ph = (phase0 + i * self.sample_us) % 1000
            if ph < on_us:
                v = high_mv
                since = ph                           # since the rising edge
                sign = 1
            else:
                v = low_mv
                since = ph - on_us
                sign = -1
            if self.ring_mv and 0 < on_us < 1000 and since < self.ring_us:
                v += sign * self.ring_mv * (self.ring_us - since) // self.ring_us
            if a:
                v += (rng.next() & 0xFFFF) * 2 * a // 65536 - a
            if self.spike_ppm and rng.below(1000000) < self.spike_ppm:
                v += self.spike_mv if rng.below(2) else -self.spike_mv
            self.samples[i] = v
        return self.samples


class SimHal:
    """The HAL the Bridge runs on in tests: the same calls as hal_machine.MachineHal."""

    ticks_diff = staticmethod(ticks_diff)

    def __init__(self, start_us=0, mains=None, s0=None, seed=3):
        self.now_us = start_us
        self.mains = mains if mains is not None else Mains(lambda t: 50000, start_us=start_us)
        self.s0 = s0 if s0 is not None else S0Meter()
        self.pulses = PulseCounter(ticks_diff)
        self.edges = EdgeRing(64)
        self.rng = Rng(seed)
        self.rx = bytearray()          # host -> bridge bytes waiting
        self.tx = bytearray()          # bridge -> host bytes written, not yet read
        self.tx_capacity = None        # None: the host reads everything; else FIFO bytes
        self.tx_block_us = 500000      # a write that does not fit blocks this long (CDC)
        self.max_call_gap_us = 0       # longest time between two HAL calls' ends (stall)
        self.duty = None
        self.car = "A"
        self.car_diode = True
        self.pilot_noise_mv = 100
        self.pilot_wave = None         # a PilotWave: capture waveforms instead of levels
        self.pilot_shorted = False
        self.relay_cmd = False
        self.relay_fb = False
        self.feedback_wired = True
        self.fb_flip_ppm = 0           # probability that one feedback read is wrong
        self.welded = False
        self.stuck_open = False
        self.relay_op_us = 20000
        self._relay_changed_us = start_us
        self.relay_log = []            # (us, closed)
        self.pilot_log = []            # (us, duty)
        self.wdt_feeds = 0
        self.last_feed_us = start_us
        self.max_feed_gap_us = 0       # longest time between two hardware watchdog feeds
        self.zc_timestamp = "exact"    # "exact", "pio" (1 us counter) or "irq" (latency)
        self.call_us = 0               # simulated duration of every HAL call
        self.on_call = None            # on_call(name): inject events inside a HAL call
        self.fail_call = None          # name of a HAL call that raises OSError ...
        self.fail_after = 0            # ... after this many more calls of it
        self.calls = 0

    # interrupts, inside every HAL call
    def _call(self, name):
        self.calls += 1
        if self.call_us:
            self.now_us += self.call_us
        if self.on_call is not None:
            self.on_call(name)
        self._deliver()
        if self.fail_call == name:
            if self.fail_after <= 0:
                self.fail_call = None
                raise OSError("simulated failure in " + name)
            self.fail_after -= 1

    def _deliver(self):
        now = self.now_us
        for t in self.mains.edges_until(now):
            self.irq_crossing(self._stamp(t))
        for t in self.s0.edges_until(now):
            self.irq_pulse((t // 1000) & TICKS_MASK)
        self._update_relay()

    def _stamp(self, t_us):
        if self.zc_timestamp == "irq":
            # IRQ entry latency: 4-20 us, and 2 % of edges 40-150 us (USB, flash, other IRQs)
            r = self.rng.below(1000)
            t_us += 4 + self.rng.below(17) if r >= 20 else 40 + self.rng.below(111)
        return t_us & TICKS_MASK

    def irq_crossing(self, t):
        """The zero-crossing hard IRQ / PIO FIFO, heap locked as in a hard IRQ."""
        heap_lock()
        try:
            self.edges.push(t)
        finally:
            heap_unlock()

    def irq_pulse(self, t_ms):
        """The S0 pin interrupt, heap locked."""
        heap_lock()
        try:
            self.pulses.on_edge(t_ms)
        finally:
            heap_unlock()

    # clock
    def ticks_us(self):
        return self.now_us & TICKS_MASK

    def ticks_ms(self):
        self._call("ticks_ms")
        return (self.now_us // 1000) & TICKS_MASK

    def advance(self, dt_us):
        self.now_us += dt_us
        self._deliver()

    def run(self, bridge, duration_ms, step_us=1000):
        """Advance time and step the bridge every step_us for duration_ms."""
        end = self.now_us + duration_ms * 1000
        while self.now_us < end:
            self.advance(step_us)
            bridge.step()

    # serial
    def serial_read_into(self, buf):
        self._call("serial_read_into")
        n = min(len(buf), len(self.rx))
        for i in range(n):
            buf[i] = self.rx[i]
        self.rx = self.rx[n:]
        return n

    def serial_room(self):
        self._call("serial_room")
        if self.tx_capacity is None:
            return 4096
        return max(0, self.tx_capacity - len(self.tx))

    def serial_write(self, buf, off=0, n=None):
        self._call("serial_write")
        if n is None:
            n = len(buf) - off
        if self.tx_capacity is not None and n > self.tx_capacity - len(self.tx):
            self.now_us += self.tx_block_us            # the CDC write times out
            n = max(0, self.tx_capacity - len(self.tx))
        self.tx.extend(buf[off:off + n])

    def take_tx(self):
        data = bytes(self.tx)
        self.tx = bytearray()
        return data

    # pilot
    def set_pilot_duty(self, permille):
        self._call("set_pilot_duty")
        self.duty = permille
        self.pilot_log.append((self.now_us, permille))

    def _levels(self):
        if self.pilot_shorted:
            return 0, 0
        if self.duty == 0:
            return -12000, -12000
        level = CAR_LEVEL_MV[self.car]
        if self.duty == 1000:
            return level, level
        low = -12000 if self.car_diode or self.car == "A" else -level
        return level, low

    def read_pilot_mv(self):
        self._call("read_pilot_mv")
        high, low = self._levels()
        if self.pilot_wave is not None:
            duty = 1000 if self.duty is None else self.duty
            if self.duty == 0 or self.pilot_shorted:
                duty = 1000
            samples = self.pilot_wave.capture(duty, high, low)
            return pilot.plateau_levels(samples, len(samples), 0, 2)
        noise = self.rng.gauss(self.pilot_noise_mv)
        return high + noise, low + noise

    # contactor
    def set_relay(self, closed):
        self._call("set_relay")
        if closed != self.relay_cmd:
            self.relay_cmd = closed
            self._relay_changed_us = self.now_us
            self.relay_log.append((self.now_us, closed))

    def _update_relay(self):
        if self.now_us - self._relay_changed_us < self.relay_op_us:
            return
        if self.welded and self.relay_fb:
            return
        self.relay_fb = self.relay_cmd and not self.stuck_open

    def relay_feedback(self):
        self._call("relay_feedback")
        if not self.feedback_wired:
            return None
        if self.fb_flip_ppm and self.rng.below(1000000) < self.fb_flip_ppm:
            return not self.relay_fb
        return self.relay_fb

    # zero crossings, watchdog
    def take_crossings(self, out):
        self._call("take_crossings")
        self.edges.take(out)

    def feed_watchdog(self):
        self._call("feed_watchdog")
        self.wdt_feeds += 1
        gap = self.now_us - self.last_feed_us
        if gap > self.max_feed_gap_us:
            self.max_feed_gap_us = gap
        self.last_feed_us = self.now_us


HAL_CALLS = ("ticks_ms", "serial_read_into", "serial_room", "serial_write", "set_pilot_duty",
             "read_pilot_mv", "set_relay", "relay_feedback", "take_crossings", "feed_watchdog")
