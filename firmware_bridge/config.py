"""Bridge settings: defaults here, installer overrides in bridge.json on the board.

Only what the hardware and the installation fix lives here (cable/breaker current, wiring,
timings). What the host may change at run time (pilot current, droop, watchdog) comes over
the protocol and is bounded by these values.
"""
FW_VERSION = (0, 1, 0)

DEFAULTS = {
    "max_current_da": 160,        # cable / breaker rating, 0.1 A (16 A)
    "watchdog_ms": 3000,          # host heartbeat timeout at boot
    "fallback_da": 0,             # pilot current after a watchdog trip (0 = no charging)
    "allow_ventilation": False,   # state D allowed (charging area ventilated)
    "relay_feedback": True,       # contactor feedback contact wired
    "relay_fb_closed_level": 0,   # GPIO level while the main contacts are closed: 0 for a
                                  # normally-open auxiliary contact to GND, 1 for a mirror
                                  # (normally-closed) contact to GND
    "relay_fb_debounce": 5,       # equal feedback reads (one per step) before a change counts
    "relay_settle_ms": 500,       # contactor operate/release time before the feedback counts
    "relay_open_delay_ms": 3000,  # max wait for the car to stop drawing before opening
    "report_ms": 500,             # STATUS period
    "pilot_sample_ms": 20,        # pilot ADC sampling period
    "pilot_debounce": 3,          # equal samples before a pilot state or a diode fault counts
    "s0_debounce_ms": 20,
    "nominal_mhz": 50000,
    "freq_window": 20,            # cycles in the least-squares fit
    "freq_update": 5,             # new estimate every this many cycles
    "hw_watchdog_ms": 2000,       # RP2040 hardware watchdog (main loop hung -> reset)
    "zero_cross_pio": True,       # timestamp zero crossings with a PIO state machine (else IRQ)
    "restart_delay_ms": 1000,     # after an internal error: outputs safe this long, then restart
}

# key -> (min, max) for the integer settings
LIMITS = {
    "max_current_da": (60, 800),
    "watchdog_ms": (200, 60000),
    "fallback_da": (0, 800),
    "relay_fb_closed_level": (0, 1),
    "relay_fb_debounce": (1, 50),
    "relay_settle_ms": (20, 5000),
    "relay_open_delay_ms": (0, 6000),
    "report_ms": (50, 10000),
    "pilot_sample_ms": (5, 200),
    "pilot_debounce": (1, 20),
    "s0_debounce_ms": (1, 200),
    "nominal_mhz": (45000, 65000),
    "freq_window": (4, 100),
    "freq_update": (1, 50),
    "hw_watchdog_ms": (500, 8000),
    "restart_delay_ms": (100, 60000),
}


def validate(overrides):
    """Merged settings and a list of errors; a bad key keeps its default and is reported."""
    cfg = dict(DEFAULTS)
    errors = []
    for key in overrides:
        value = overrides[key]
        if key not in DEFAULTS:
            errors.append("unknown setting %r" % key)
        elif isinstance(DEFAULTS[key], bool):
            if isinstance(value, bool):
                cfg[key] = value
            else:
                errors.append("%s must be true or false" % key)
        elif not isinstance(value, int) or isinstance(value, bool):
            errors.append("%s must be an integer" % key)
        elif not (LIMITS[key][0] <= value <= LIMITS[key][1]):
            errors.append("%s=%d outside %d..%d" % (key, value, LIMITS[key][0], LIMITS[key][1]))
        else:
            cfg[key] = value
    if cfg["fallback_da"] != 0 and not (60 <= cfg["fallback_da"] <= cfg["max_current_da"]):
        errors.append("fallback_da must be 0 or 60..max_current_da")
        cfg["fallback_da"] = 0
    return cfg, errors


def load(path="bridge.json"):
    """Settings from a JSON file if present; (cfg, errors). Never raises."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return dict(DEFAULTS), []
    try:
        import json
        overrides = json.loads(text)
    except ValueError as exc:
        return dict(DEFAULTS), ["%s: not valid JSON (%s)" % (path, exc)]
    if not isinstance(overrides, dict):
        return dict(DEFAULTS), ["%s: must hold a JSON object" % path]
    return validate(overrides)
