"""IEC 61851-1 control pilot: current <-> duty cycle, state from the measured levels, diode check.

Pure integer functions and one small debouncing class; runs under CPython and MicroPython.
Units: current in 0.1 A (da), duty in 0.1 % (permille), voltages in mV at the pilot (+/-12 V).

Duty from current (IEC 61851-1 table A.7):
    6 A  .. 51 A : duty % = A / 0.6
    51 A .. 80 A : duty % = A / 2.5 + 64
    0            : no PWM, steady +12 V ("charging not available")
Duty is rounded down, so the car is never offered more than was asked.
"""

MIN_CURRENT_DA = 60
MAX_CURRENT_DA = 800
DUTY_STEADY_HIGH = 1000   # +12 V, no PWM: charging not available (states A/B)
DUTY_STEADY_LOW = 0       # -12 V, no PWM: state F, EVSE not available (faults)

# Level thresholds (mV) between the nominal 12/9/6/3/0/-12 V, as the open EVSE firmwares
# do it: midpoints, so a 1.5 V error never flips a state.
THRESH_A_MV = 10500
THRESH_B_MV = 7500
THRESH_C_MV = 4500
THRESH_D_MV = 1500
THRESH_E_MV = -1500        # above: state E (0 V, pilot shorted to PE)
THRESH_F_MV = -10500       # below: state F (-12 V)
DIODE_LOW_MAX_MV = -10500  # with PWM running, the low level must reach this (diode present)

STATES = "ABCDEF"


def current_to_duty(current_da):
    """Duty in permille for a pilot current in 0.1 A; ValueError if not 0 or 6..80 A."""
    if current_da == 0:
        return DUTY_STEADY_HIGH
    if current_da < MIN_CURRENT_DA or current_da > MAX_CURRENT_DA:
        raise ValueError("pilot current %d dA: must be 0 or 60..800 dA" % current_da)
    if current_da <= 510:
        return (current_da * 5) // 3           # A / 0.6 %  == dA * 10 / 6 permille
    return (current_da * 2) // 5 + 640         # (A / 2.5 + 64) %


def duty_to_current(duty_permille):
    """Current in 0.1 A a car reads from a duty in permille; 0 outside 8..97 % (no charging)."""
    if duty_permille < 80 or duty_permille > 970:
        return 0
    if duty_permille < 100:
        return MIN_CURRENT_DA                  # 8-10 %: 6 A
    if duty_permille <= 850:
        return (duty_permille * 6) // 10       # duty % * 0.6 A
    return min(MAX_CURRENT_DA, ((duty_permille - 640) * 5) // 2)


def classify(high_mv):
    """Pilot state letter from the high level of the pilot in mV."""
    if high_mv >= THRESH_A_MV:
        return "A"
    if high_mv >= THRESH_B_MV:
        return "B"
    if high_mv >= THRESH_C_MV:
        return "C"
    if high_mv >= THRESH_D_MV:
        return "D"
    if high_mv >= THRESH_F_MV:
        return "E"
    return "F"


def diode_ok(state, duty_permille, low_mv):
    """False when a vehicle is present, PWM runs and the low level does not reach -12 V."""
    if state not in "BCD" or duty_permille == DUTY_STEADY_HIGH or duty_permille == DUTY_STEADY_LOW:
        return True
    return low_mv <= DIODE_LOW_MAX_MV


def vehicle_wants_power(state, allow_ventilation):
    """The car asks for energy (state C, or D when the site has ventilation)."""
    return state == "C" or (state == "D" and allow_ventilation)


def plateau_levels(samples, n, zero, guard):
    """(high, low) plateau means of n raw ADC samples covering at least one whole PWM period
    (ADC free-running over the period, e.g. by DMA), in raw units relative to `zero` (the
    reading at 0 V). Samples are split at 0 V into the high and low phase; `guard` samples on
    each side of every phase change are left out (the edges ring; plateaus must be longer
    than `guard`), then each plateau is
    averaged twice, the second time without samples more than a quarter of the first mean's
    distance from 0 V plus a margin away from it (spikes). A phase with no sample left
    (steady pilot, no PWM) takes the other's value. Integer maths, no allocation."""
    hi_sum = hi_n = lo_sum = lo_n = 0
    for i in range(n):
        v = samples[i] - zero
        high = v >= 0
        if ((samples[(i - guard) % n] >= zero) != high
                or (samples[(i + guard) % n] >= zero) != high):
            continue                              # within `guard` of a phase change
        if high:
            hi_sum += v
            hi_n += 1
        else:
            lo_sum += v
            lo_n += 1
    hi = hi_sum // hi_n if hi_n else None
    lo = lo_sum // lo_n if lo_n else None
    if hi is None and lo is None:
        return 0, 0
    if hi is not None:
        hi = _trimmed_mean(samples, n, zero, hi, True)
    if lo is not None:
        lo = _trimmed_mean(samples, n, zero, lo, False)
    if hi is None:
        hi = lo
    if lo is None:
        lo = hi
    return hi, lo


def _trimmed_mean(samples, n, zero, mean, high):
    """Mean of the samples of one phase within a window around a first mean."""
    window = (mean if mean > 0 else -mean) // 4 + 1
    total = count = 0
    for i in range(n):
        v = samples[i] - zero
        if (v >= 0) == high and mean - window <= v <= mean + window:
            total += v
            count += 1
    return total // count if count else mean


class PilotMonitor:
    """Debounces the sampled pilot: a state or a diode failure counts only after `samples`
    equal readings in a row. Call update() every sample period (about 20 ms).
    The diode must also be seen present (`samples` good readings with PWM running) after
    each start of the PWM before the contactor may close: `diode_verified`."""

    def __init__(self, samples=3):
        self._need = samples
        self.state = "?"
        self._candidate = "?"
        self._count = 0
        self._diode_bad = 0
        self.diode_fault = False
        self._diode_good = 0
        self.diode_verified = False
        self.high_mv = 0
        self.low_mv = 0

    def restart(self):
        """Forget the debounced state (after the pilot output level changed)."""
        self.state = "?"
        self._candidate = "?"
        self._count = 0
        self._diode_bad = 0
        self.pwm_started()

    def pwm_started(self):
        """The PWM (re)starts: the diode must be seen again before the contactor closes."""
        self._diode_good = 0
        self.diode_verified = False

    def update(self, high_mv, low_mv, duty_permille):
        """Feed one sample; returns the debounced state letter ('?' until the first is known)."""
        self.high_mv = high_mv
        self.low_mv = low_mv
        s = classify(high_mv)
        if s == self._candidate:
            self._count += 1
        else:
            self._candidate = s
            self._count = 1
        if self._count >= self._need:
            self.state = s
        pwm = (duty_permille is not None and duty_permille != DUTY_STEADY_HIGH
               and duty_permille != DUTY_STEADY_LOW)
        if diode_ok(s, duty_permille, low_mv):
            self._diode_bad = 0
            if pwm and s in "BCD":
                self._diode_good += 1
                if self._diode_good >= self._need:
                    self.diode_verified = True
        else:
            self._diode_good = 0
            self.diode_verified = False
            self._diode_bad += 1
            if self._diode_bad >= self._need:
                self.diode_fault = True
        return self.state
