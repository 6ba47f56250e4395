"""Mains frequency from zero-crossing timestamps, and the local droop response.

Integer arithmetic only, so CPython and MicroPython (single-precision floats on the RP2040)
give the same answers. Units: timestamps in us (wrapping ticks, compared with ticks_diff),
frequency in mHz, currents in 0.1 A.

Estimator: the rising zero crossings are numbered by cycle k; a least-squares line t = a + P*k
through the last `window` cycles gives the period P, so timing noise sigma_t becomes
sigma_t * sqrt(12 / n^3) on P, instead of sigma_t * sqrt(2) / n for a first-to-last count.
An edge nearer a half period than a whole one (the second edge per cycle of a two-edge detector
such as the H11AA1) is ignored; an edge more than 1 ms (before lock: a quarter period) away
from a whole number of periods is impulse noise and is dropped; of two edges close together
(chatter) the one nearer the expected crossing is kept; one or two missed crossings count as
whole cycles; a longer gap restarts the window. Ignored edges never invalidate the estimate:
only a gap, or 4 windows' worth of edges rejected in a row, starts it again.
"""

NOMINAL_MHZ = 50000
MIN_FREQ_MHZ = 40000
MAX_FREQ_MHZ = 70000


class FrequencyEstimator:
    def __init__(self, ticks_diff, window=20, update_every=5, nominal_mhz=NOMINAL_MHZ):
        self._diff = ticks_diff
        self._window = window
        self._every = update_every
        self._nominal_period_us = 10 ** 9 // nominal_mhz
        self._ks = []                 # cycle numbers of the accepted crossings
        self._ts = []                 # their timestamps (us ticks)
        self._k = 0
        self._since_update = 0
        self.freq_mhz = 0             # 0 = unknown
        self.valid = False
        self.rejected = 0             # edges dropped as spurious
        self.restarts = 0             # windows restarted after a gap
        self._rejected_run = 0        # edges rejected since the last accepted one

    def _period_us(self):
        if self.valid:
            return 10 ** 9 // self.freq_mhz
        return self._nominal_period_us

    def reset(self):
        self._ks = []
        self._ts = []
        self._k = 0
        self._since_update = 0
        self._rejected_run = 0
        self.valid = False
        self.freq_mhz = 0

    def add(self, t_us):
        """One rising zero crossing. Returns True when a new estimate is ready."""
        if not self._ts:
            self._ks.append(0)
            self._ts.append(t_us)
            return False
        period = self._period_us()
        dt = self._diff(t_us, self._ts[-1])
        cycles = (dt + period // 2) // period          # nearest whole number of periods
        off = dt - cycles * period
        if off > period // 4 or off < -(period // 4):
            # nearer a half period than a whole one: the other half-cycle's edge of a
            # two-edge detector (H11AA1, bridge + PC817), or impulse noise: never a restart
            self.rejected += 1
            return self._stale()
        if cycles <= 0:
            self._maybe_replace_last(t_us, period)
            return self._stale()
        tol = 1000 if self.valid else period // 4
        if off < -tol or off > tol:
            self.rejected += 1                 # impulse noise between two crossings
            return self._stale()
        if cycles > 3:
            self.restarts += 1                 # a gap: start a new window on this edge
            self.reset()
            self._ks.append(0)
            self._ts.append(t_us)
            return False
        self._rejected_run = 0
        self._k += cycles
        self._ks.append(self._k)
        self._ts.append(t_us)
        if len(self._ts) > self._window + 1:
            self._ks.pop(0)
            self._ts.pop(0)
        self._since_update += 1
        if len(self._ts) < self._window // 2 + 1 or self._since_update < self._every:
            return False
        self._since_update = 0
        return self._estimate()

    def _stale(self):
        """Count an edge that was not accepted; after many in a row (the window no longer
        matches the mains) start again. Returns False (no new estimate)."""
        self._rejected_run += 1
        if self._rejected_run > 4 * self._window:
            self.restarts += 1
            self.reset()
        return False

    def _maybe_replace_last(self, t_us, period):
        """A second edge close after the last one (chatter, or the last was noise): keep
        whichever lies nearer the predicted crossing."""
        self.rejected += 1
        if len(self._ts) < 2:
            return
        expected = (self._ks[-1] - self._ks[-2]) * period
        new_off = self._diff(t_us, self._ts[-2]) - expected
        old_off = self._diff(self._ts[-1], self._ts[-2]) - expected
        if abs(new_off) < abs(old_off):
            self._ts[-1] = t_us

    def _estimate(self):
        n = len(self._ts)
        t0 = self._ts[0]
        k0 = self._ks[0]
        sk = st = skk = skt = 0
        for i in range(n):
            k = self._ks[i] - k0
            t = self._diff(self._ts[i], t0)
            sk += k
            st += t
            skk += k * k
            skt += k * t
        num = n * skt - sk * st        # period_us * den
        den = n * skk - sk * sk
        if num <= 0 or den <= 0:
            return False
        f = (2 * 10 ** 9 * den + num) // (2 * num)
        if f < MIN_FREQ_MHZ or f > MAX_FREQ_MHZ:
            self.restarts += 1
            self.reset()
            return False
        self.freq_mhz = f
        self.valid = True
        return True

    def span(self):
        """(first, last) timestamps of the cycles behind the current estimate."""
        return (self._ts[0], self._ts[-1]) if self._ts else (0, 0)


class Droop:
    """Fast frequency response for a charge-only load: below the deadband charge less,
    above it charge more. Output current = clamp(set + slope * (deviation beyond deadband)),
    and 0 when that falls under 6 A. Settings are validated by configure()."""

    def __init__(self):
        self.enabled = False
        self.nominal_mhz = NOMINAL_MHZ
        self.deadband_mhz = 200
        self.slope_da_per_hz = 0
        self.min_da = 0
        self.max_da = 0
        self.active = False

    def configure(self, enabled, nominal_mhz, deadband_mhz, slope_da_per_hz, min_da, max_da,
                  hw_max_da):
        """Returns None if accepted, else the reason it was refused (settings unchanged)."""
        if not (45000 <= nominal_mhz <= 65000):
            return "nominal frequency out of 45..65 Hz"
        if deadband_mhz > 5000:
            return "deadband over 5 Hz"
        if min_da > max_da or max_da > hw_max_da:
            return "limits must satisfy min <= max <= hardware max"
        if min_da != 0 and min_da < 60:
            return "min current must be 0 or >= 6 A"
        self.enabled = bool(enabled)
        self.nominal_mhz = nominal_mhz
        self.deadband_mhz = deadband_mhz
        self.slope_da_per_hz = slope_da_per_hz
        self.min_da = min_da
        self.max_da = max_da
        return None

    def delta_da(self, freq_mhz):
        """Current change (0.1 A, + = charge more) for a frequency; 0 inside the deadband."""
        dev = freq_mhz - self.nominal_mhz
        if dev > self.deadband_mhz:
            dev -= self.deadband_mhz
        elif dev < -self.deadband_mhz:
            dev += self.deadband_mhz
        else:
            return 0
        d = self.slope_da_per_hz * abs(dev) // 1000
        return d if dev > 0 else -d

    def apply(self, set_da, freq_mhz, freq_valid):
        """Pilot current after the response. Only modulates while charging is asked for."""
        if not self.enabled or not freq_valid or set_da == 0:
            self.active = False
            return set_da
        d = self.delta_da(freq_mhz)
        if d == 0:
            self.active = False
            return set_da
        self.active = True
        out = set_da + d
        if out < self.min_da:
            out = self.min_da
        if out > self.max_da:
            out = self.max_da
        return out if out >= 60 else 0
