"""Simulated bridge hardware: a clock, the serial line, a car on the pilot, the contactor,
the mains zero-crossing detector and an S0 meter. Runs under CPython and MicroPython.

Time is simulated (advance() / run()) so tests are exact and fast; ticks wrap at 2**30 like
MicroPython's, and `start_us` lets a test start just before a wrap. Noise comes from a seeded
xorshift generator with integer arithmetic, so both interpreters see the same signals.
"""
from firmware_bridge.pulses import PulseCounter

TICKS_PERIOD = 1 << 30
TICKS_MASK = TICKS_PERIOD - 1
TICKS_HALF = TICKS_PERIOD >> 1

# pilot high level (mV) a car presents in each state, with the EVSE driving +12 V
CAR_LEVEL_MV = {"A": 12000, "B": 9000, "C": 6000, "D": 3000, "E": 0}


def ticks_diff(a, b):
    """Signed difference a - b of two wrapping tick values (MicroPython's time.ticks_diff)."""
    return ((a - b + TICKS_HALF) & TICKS_MASK) - TICKS_HALF


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
                 missed_ppm=0, start_us=0):
        self.freq_fn = freq_fn
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


class SimHal:
    """The HAL the Bridge runs on in tests: the same calls as hal_machine.MachineHal."""

    ticks_diff = staticmethod(ticks_diff)

    def __init__(self, start_us=0, mains=None, s0=None, seed=3):
        self.now_us = start_us
        self.mains = mains if mains is not None else Mains(lambda t: 50000, start_us=start_us)
        self.s0 = s0 if s0 is not None else S0Meter()
        self.pulses = PulseCounter(ticks_diff)
        self.rng = Rng(seed)
        self.rx = bytearray()          # host -> bridge bytes waiting
        self.tx = bytearray()          # bridge -> host bytes written
        self.duty = None
        self.car = "A"
        self.car_diode = True
        self.pilot_noise_mv = 100
        self.pilot_shorted = False
        self.relay_cmd = False
        self.relay_fb = False
        self.feedback_wired = True
        self.welded = False
        self.stuck_open = False
        self.relay_op_us = 20000
        self._relay_changed_us = start_us
        self.relay_log = []            # (us, closed)
        self.pilot_log = []            # (us, duty)
        self.wdt_feeds = 0
        self._crossings = []

    # clock
    def ticks_us(self):
        return self.now_us & TICKS_MASK

    def ticks_ms(self):
        return (self.now_us // 1000) & TICKS_MASK

    def advance(self, dt_us):
        self.now_us += dt_us
        for t in self.mains.edges_until(self.now_us):
            self._crossings.append(t & TICKS_MASK)
        for t in self.s0.edges_until(self.now_us):
            self.pulses.on_edge((t // 1000) & TICKS_MASK)
        self._update_relay()

    def run(self, bridge, duration_ms, step_us=1000):
        """Advance time and step the bridge every step_us for duration_ms."""
        end = self.now_us + duration_ms * 1000
        while self.now_us < end:
            self.advance(step_us)
            bridge.step()

    # serial
    def serial_read(self):
        if not self.rx:
            return None
        data = bytes(self.rx)
        self.rx = bytearray()
        return data

    def serial_write(self, data):
        self.tx.extend(data)

    def take_tx(self):
        data = bytes(self.tx)
        self.tx = bytearray()
        return data

    # pilot
    def set_pilot_duty(self, permille):
        self.duty = permille
        self.pilot_log.append((self.now_us, permille))

    def read_pilot_mv(self):
        noise = self.rng.gauss(self.pilot_noise_mv)
        if self.pilot_shorted:
            return noise, noise
        if self.duty == 0:
            return -12000 + noise, -12000 + noise
        level = CAR_LEVEL_MV[self.car]
        if self.duty == 1000:
            return level + noise, level + noise
        low = -12000 if self.car_diode or self.car == "A" else -level
        return level + noise, low + noise

    # contactor
    def set_relay(self, closed):
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
        return self.relay_fb if self.feedback_wired else None

    # zero crossings, watchdog
    def take_crossings(self, out):
        out.extend(self._crossings)
        self._crossings = []

    def feed_watchdog(self):
        self.wdt_feeds += 1
