"""Firmware tests that run unchanged under CPython (pytest) and real MicroPython (mp_runner.py).

Plain functions and asserts only: no pytest features, no typing, nothing MicroPython lacks.
Lines starting with "MEASURE" carry the numbers the README quotes.
"""
from firmware_bridge import pilot
from firmware_bridge import protocol as P
from firmware_bridge.bridge import Bridge
from firmware_bridge.config import DEFAULTS, validate
from firmware_bridge.contactor import Contactor
from firmware_bridge.frequency import Droop, FrequencyEstimator
from firmware_bridge.hal_sim import TICKS_MASK, Mains, Rng, S0Meter, SimHal, ticks_diff
from firmware_bridge.pulses import PulseCounter

WRAP_US = 1 << 30


def measure(key, value):
    print("MEASURE %s %s" % (key, value))


class Host:
    """The host end of an in-memory serial line to a Bridge on SimHal."""

    def __init__(self, hal):
        self.hal = hal
        self.reader = P.FrameReader()
        self.seq = 0
        self.got = []

    def send(self, msg_type, values=()):
        self.seq = (self.seq + 1) & 0xFF
        self.hal.rx.extend(P.message(msg_type, self.seq, values))
        return self.seq

    def poll(self):
        for f in self.reader.feed(self.hal.take_tx()):
            self.got.append((f[1], f[2], P.unpack(f[1], f[3])))
        return self.got

    def acks(self):
        return [v for t, s, v in self.poll() if t == P.ACK]

    def last(self, msg_type):
        found = [v for t, s, v in self.poll() if t == msg_type]
        return P.as_dict(msg_type, found[-1]) if found else None


def make_bridge(start_us=0, freq_fn=None, jitter_us=0, cfg=None, **mains_kw):
    mains = Mains(freq_fn or (lambda t: 50000), jitter_us=jitter_us, start_us=start_us,
                  **mains_kw)
    hal = SimHal(start_us=start_us, mains=mains)
    bridge = Bridge(hal, cfg)
    host = Host(hal)
    return hal, bridge, host


def run_alive(hal, bridge, host, ms):
    """Run for ms with a heartbeat every 500 ms, as a healthy host does."""
    for _ in range(ms // 500):
        host.send(P.HEARTBEAT)
        hal.run(bridge, 500)
    hal.run(bridge, ms % 500)


def start_charging(hal, bridge, host, current_da=160):
    host.send(P.HEARTBEAT)
    host.send(P.SET_RELAY, (1,))
    host.send(P.SET_PILOT, (current_da,))
    hal.car = "C"
    hal.run(bridge, 300)
    assert [a[2] for a in host.acks()] == [P.OK, P.OK, P.OK]
    host.got = []
    assert hal.relay_cmd and hal.duty == pilot.current_to_duty(current_da)


# ---------------------------------------------------------------- framing
def test_crc16_check_value():
    assert P.crc16(b"123456789") == 0x29B1
    assert P.crc16(b"") == 0xFFFF


def test_cobs_roundtrip_random_data():
    rng = Rng(11)
    for n in range(0, 600, 7):
        data = bytes([rng.below(4) if rng.below(3) == 0 else rng.below(256) for _ in range(n)])
        enc = P.cobs_encode(data)
        assert 0 not in enc
        assert P.cobs_decode(enc) == data
    for n in (253, 254, 255, 508):
        data = bytes([1] * n)
        assert P.cobs_decode(P.cobs_encode(data)) == data


def sample_values(msg_type):
    fmt = P.MESSAGES[msg_type][1]
    vals = []
    for i, c in enumerate(fmt[1:]):
        vals.append({"B": 200, "H": 60000 - i, "h": -1234 + i, "I": 4000000000 - i}[c])
    return tuple(vals)


def test_every_message_roundtrips():
    reader = P.FrameReader()
    for msg_type in P.MESSAGES:
        values = sample_values(msg_type)
        frames = reader.feed(P.message(msg_type, 77, values))
        assert len(frames) == 1
        version, t, seq, payload = frames[0]
        assert (version, t, seq) == (P.PROTOCOL_VERSION, msg_type, 77)
        assert P.unpack(t, payload) == values
    assert reader.bad_frames == 0


def test_pack_refuses_out_of_range_values():
    for bad in ((70000,), (-1,), ()):
        try:
            P.pack(P.SET_PILOT, bad)
            raise AssertionError("accepted %r" % (bad,))
        except ValueError:
            pass


def test_garbage_between_frames_is_counted_and_frames_survive():
    rng = Rng(5)
    reader = P.FrameReader()
    sent = 0
    received = []
    for i in range(200):
        noise = bytes([rng.below(256) for _ in range(rng.below(90))])
        received.extend(reader.feed(noise))
        frame = P.message(P.SET_PILOT, i & 0xFF, (60 + i,))
        sent += 1
        cut = rng.below(len(frame))           # arrive in two pieces
        received.extend(reader.feed(frame[:cut]))
        received.extend(reader.feed(frame[cut:]))
    good = [f for f in received if f[1] == P.SET_PILOT and P.unpack(f[1], f[3]) is not None]
    assert len(good) >= sent
    assert [P.unpack(f[1], f[3])[0] for f in good][-sent:] == [60 + i for i in range(sent)]
    assert reader.bad_frames > 50
    measure("garbage_bad_frames_counted", reader.bad_frames)


def test_every_single_byte_corruption_is_rejected():
    frame = P.message(P.SET_PILOT, 9, (160,))
    for i in range(1, len(frame) - 1):
        for flip in (0x01, 0x80, 0xFF):
            bad = bytearray(frame)
            bad[i] ^= flip
            reader = P.FrameReader()
            frames = reader.feed(bytes(bad))
            ok = [f for f in frames if f[1] == P.SET_PILOT and P.unpack(f[1], f[3]) == (160,)
                  and f[2] == 9]
            assert not ok or bad == frame, "corruption at %d passed" % i
            assert reader.bad_frames >= 1 or not frames


def test_oversized_and_foreign_version_frames_dropped():
    reader = P.FrameReader()
    assert reader.feed(b"\x00" + b"\x05" * 500 + b"\x00") == []
    assert reader.last_error == "frame too long"
    assert reader.feed(P.encode_frame(P.SET_PILOT, 1, b"\xa0\x00", version=9)) == []
    assert "version" in reader.last_error
    hello = reader.feed(P.encode_frame(P.HELLO, 1, b"\x09", version=9))
    assert len(hello) == 1 and hello[0][0] == 9
    assert reader.bad_frames == 2


# ---------------------------------------------------------------- pilot
def test_duty_from_current_table():
    table = ((0, 1000), (60, 100), (100, 166), (130, 216), (160, 266), (200, 333),
             (320, 533), (400, 666), (510, 850), (520, 848), (630, 892), (800, 960))
    for current_da, duty in table:
        assert pilot.current_to_duty(current_da) == duty, current_da
    for bad in (1, 59, 801, -10):
        try:
            pilot.current_to_duty(bad)
            raise AssertionError("accepted %d" % bad)
        except ValueError:
            pass


def test_car_reads_at_most_the_current_offered():
    for current_da in range(60, 801):
        back = pilot.duty_to_current(pilot.current_to_duty(current_da))
        assert back <= current_da, (current_da, back)
        if current_da <= 510:
            assert current_da - back <= 1, (current_da, back)
        elif current_da < 530:
            # 51-52.75 A: the second formula gives a duty <= 85 %, read with the first
            assert current_da - back <= 18, (current_da, back)
        else:
            assert current_da - back <= 3, (current_da, back)
    assert pilot.duty_to_current(1000) == 0
    assert pilot.duty_to_current(50) == 0       # 5 %: digital communication, no current


def test_state_table_with_tolerance():
    nominal = (("A", 12000), ("B", 9000), ("C", 6000), ("D", 3000), ("E", 0), ("F", -12000))
    for state, mv in nominal:
        for err in (-1000, 0, 1000):
            if state == "A" and err > 0 or state == "F" and err < 0:
                continue
            assert pilot.classify(mv + err) == state, (state, mv + err)


def test_diode_check():
    pwm = pilot.current_to_duty(160)
    assert pilot.diode_ok("C", pwm, -12000)
    assert not pilot.diode_ok("C", pwm, -6000)           # no diode: the low side follows
    assert not pilot.diode_ok("B", pwm, -9000)
    assert pilot.diode_ok("B", pilot.DUTY_STEADY_HIGH, 9000)   # no PWM, no low phase
    assert pilot.diode_ok("A", pwm, -12000)


def test_pilot_monitor_debounces_glitches():
    m = pilot.PilotMonitor(samples=3)
    pwm = pilot.current_to_duty(160)
    for _ in range(3):
        m.update(9000, -12000, pwm)
    assert m.state == "B"
    m.update(6000, -12000, pwm)                # one glitch
    m.update(9000, -12000, pwm)
    assert m.state == "B"
    for _ in range(3):
        m.update(6000, -12000, pwm)
    assert m.state == "C" and not m.diode_fault
    m.update(6000, -6000, pwm)
    m.update(6000, -6000, pwm)
    assert not m.diode_fault
    m.update(6000, -6000, pwm)
    assert m.diode_fault


# ---------------------------------------------------------------- frequency
def _truth_mhz(mains, span, start_idx):
    """Average true frequency over the cycles between the estimate's first and last edge."""
    first, last = span
    true = mains.true_us
    i = start_idx
    while i < len(true) and ticks_diff((true[i] // 1000) & TICKS_MASK, first) < -1500:
        i += 1
    j = i
    while j + 1 < len(true) and ticks_diff((true[j + 1] // 1000) & TICKS_MASK, last) <= 1500:
        j += 1
    if j <= i:
        return None, i
    return (j - i) * 10 ** 12 // (true[j] - true[i]), i


def run_estimator(freq_fn, seconds, jitter_us, start_us=0, settle_s=1, **kw):
    """Errors (mHz) of every estimate against the true window-average frequency."""
    mains = Mains(freq_fn, jitter_us=jitter_us, start_us=start_us, seed=21, **kw)
    mains.keep_truth = True
    est = FrequencyEstimator(ticks_diff)
    errors = []
    idx = 0
    end_us = start_us + seconds * 1000000
    t = start_us
    while t < end_us:
        t += 10000
        for edge in mains.edges_until(t):
            if est.add(edge & TICKS_MASK) and t - start_us > settle_s * 1000000:
                truth, idx = _truth_mhz(mains, est.span(), idx)
                if truth is not None:
                    errors.append(est.freq_mhz - truth)
    return errors, est


def stats(errors):
    n = len(errors)
    mean = sum(errors) / n
    rms = (sum(e * e for e in errors) / n) ** 0.5
    return mean, rms, max(abs(e) for e in errors)


def grid_profile(t_us):
    """50 Hz with a slow wander, a step to 49.80 Hz, a ramp to 50.15 Hz, back to 50 Hz."""
    s = t_us // 1000
    if s < 10000:
        return 50000 + (s % 4000) // 200 - 10        # -10..+9 mHz sawtooth wander
    if s < 20000:
        return 49800
    if s < 30000:
        return 49800 + (s - 20000) * 350 // 10000      # 35 mHz/s ramp
    return 50000


def test_frequency_accuracy_steady_with_jitter():
    errors, est = run_estimator(lambda t: 50000, 60, jitter_us=30)
    mean, rms, worst = stats(errors)
    measure("freq_steady_jitter30us_rms_mhz", "%.2f" % rms)
    measure("freq_steady_jitter30us_max_mhz", worst)
    assert len(errors) > 500
    assert rms < 5 and worst < 20 and abs(mean) < 1


def test_frequency_tracks_step_and_ramp_with_jitter():
    errors, est = run_estimator(grid_profile, 40, jitter_us=30)
    mean, rms, worst = stats(errors)
    measure("freq_deviations_jitter30us_rms_mhz", "%.2f" % rms)
    measure("freq_deviations_jitter30us_max_mhz", worst)
    assert rms < 5 and worst < 20
    assert abs(est.freq_mhz - 50000) < 15


def test_frequency_survives_chatter_impulses_and_missed_crossings():
    errors, est = run_estimator(lambda t: 49950, 60, jitter_us=30, chatter_ppm=20000,
                                spurious_ppm=20000, missed_ppm=20000)
    mean, rms, worst = stats(errors)
    measure("freq_noisy_detector_rms_mhz", "%.2f" % rms)
    measure("freq_noisy_detector_max_mhz", worst)
    assert est.rejected > 50
    assert rms < 8 and worst < 40


def test_frequency_across_tick_wrap():
    errors, est = run_estimator(lambda t: 50123, 10, jitter_us=10, start_us=WRAP_US - 4000000)
    assert stats(errors)[2] < 10
    assert abs(est.freq_mhz - 50123) < 10


def test_frequency_lost_when_crossings_stop():
    hal, bridge, host = make_bridge()
    hal.run(bridge, 1000)
    assert bridge.freq.valid
    hal.mains.enabled = False
    hal.run(bridge, 500)
    assert not bridge.freq.valid and bridge.faults & P.F_NO_MAINS
    status = host.last(P.STATUS)
    assert status["freq_mhz"] == 0 and not status["flags"] & P.FL_FREQ_VALID


# ---------------------------------------------------------------- droop
def test_droop_deadband_slope_limits():
    d = Droop()
    assert d.configure(1, 50000, 100, 200, 0, 160, 160) is None   # 20 A/Hz, 0.1 Hz band
    assert d.apply(160, 50090, True) == 160 and not d.active
    assert d.apply(160, 49850, True) == 150 and d.active         # 50 mHz beyond: -1 A
    assert d.apply(160, 49600, True) == 100                       # 300 mHz beyond: -6 A
    assert d.apply(100, 49600, True) == 0                         # below 6 A: stop
    assert d.apply(100, 50300, True) == 140                       # over-frequency: +4 A
    assert d.apply(150, 50500, True) == 160                       # capped at max
    assert d.apply(0, 50500, True) == 0                           # never starts charging
    assert d.apply(160, 49000, False) == 160                      # unknown frequency: hold
    assert d.configure(1, 50000, 100, 200, 30, 160, 160) is not None
    assert d.configure(1, 50000, 100, 200, 0, 200, 160) is not None


def test_droop_response_time_on_a_frequency_step():
    world = {"f": 50000}
    hal, bridge, host = make_bridge(freq_fn=lambda t: world["f"], jitter_us=30)
    host.send(P.SET_DROOP, (1, 50000, 100, 200, 0, 160))
    hal.run(bridge, 10)
    assert host.acks()[-1][2] == P.OK
    host.got = []
    start_charging(hal, bridge, host, 160)
    run_alive(hal, bridge, host, 2000)
    assert hal.duty == pilot.current_to_duty(160)
    world["f"] = 49700                                 # -300 mHz: 200 beyond the band
    t_step = hal.now_us
    n_log = len(hal.pilot_log)
    run_alive(hal, bridge, host, 1000)
    changes = hal.pilot_log[n_log:]
    assert changes, "no response"
    first_ms = (changes[0][0] - t_step) // 1000
    final = pilot.duty_to_current(hal.duty)
    measure("droop_first_response_ms", first_ms)
    measure("droop_settled_current_da", final)
    assert first_ms < 500
    assert 115 <= final <= 125                         # 16 A - 20 A/Hz * 0.2 Hz = 12 A
    assert host.last(P.STATUS)["flags"] & P.FL_DROOP_ACTIVE


# ---------------------------------------------------------------- watchdog
def test_watchdog_trip_time_and_safe_state():
    cfg, errors = validate({"watchdog_ms": 1000})
    hal, bridge, host = make_bridge(cfg=cfg)
    start_charging(hal, bridge, host)
    last_hb_us = hal.now_us
    host.send(P.HEARTBEAT)
    n_log = len(hal.pilot_log)
    hal.run(bridge, 1500)
    safe = [e for e in hal.pilot_log[n_log:] if e[1] == pilot.DUTY_STEADY_HIGH]
    trip_ms = (safe[0][0] - last_hb_us) / 1000
    measure("watchdog_trip_ms_timeout_1000", trip_ms)
    assert 1000 <= trip_ms <= 1003
    faults = [v for t, s, v in host.poll() if t == P.FAULT]
    assert faults and faults[0][1] & P.F_WATCHDOG
    # the car keeps drawing (still C): the contactor opens after the 3 s grace at most
    assert hal.relay_cmd
    hal.run(bridge, 3100)
    opened = [e for e in hal.relay_log if not e[1]]
    open_ms = (opened[0][0] - last_hb_us) / 1000
    measure("watchdog_contactor_open_ms_car_ignores_pilot", open_ms)
    assert open_ms <= 1000 + 3000 + 3


def test_watchdog_contactor_opens_when_car_stops():
    cfg, errors = validate({"watchdog_ms": 500})
    hal, bridge, host = make_bridge(cfg=cfg)
    start_charging(hal, bridge, host)
    t0 = hal.now_us
    host.send(P.HEARTBEAT)
    hal.run(bridge, 520)
    assert hal.duty == pilot.DUTY_STEADY_HIGH and hal.relay_cmd
    hal.car = "B"                                      # the car sees no PWM and stops
    hal.run(bridge, 200)
    assert not hal.relay_cmd
    open_ms = (hal.relay_log[-1][0] - t0) / 1000
    assert open_ms < 520 + 100


def test_watchdog_refuses_charging_until_heartbeat_and_forgets_commands():
    hal, bridge, host = make_bridge()
    host.send(P.SET_PILOT, (160,))
    host.send(P.SET_RELAY, (1,))
    hal.run(bridge, 50)
    assert [a[2] for a in host.acks()] == [P.REFUSED, P.REFUSED]
    host.got = []
    start_charging(hal, bridge, host)
    hal.run(bridge, 3100)                               # default timeout 3 s
    assert bridge.watchdog.tripped and bridge.set_da == 0 and not bridge.relay_enable
    host.send(P.HEARTBEAT)
    hal.run(bridge, 50)
    assert not bridge.faults & P.F_WATCHDOG
    assert hal.duty == pilot.DUTY_STEADY_HIGH           # stays off until the host asks again


def test_watchdog_fallback_current():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host, 160)
    host.send(P.SET_WATCHDOG, (400, 60))
    hal.run(bridge, 100)
    assert host.acks()[-1][2] == P.OK
    hal.run(bridge, 500)
    assert hal.duty == pilot.current_to_duty(60) and hal.relay_cmd
    host.send(P.SET_WATCHDOG, (100, 0))
    host.send(P.SET_WATCHDOG, (1000, 50))
    hal.run(bridge, 10)
    assert [a[2] for a in host.acks()[-2:]] == [P.OUT_OF_RANGE, P.OUT_OF_RANGE]


# ---------------------------------------------------------------- contactor, faults
def test_contactor_needs_enable_current_and_state_c():
    hal, bridge, host = make_bridge()
    host.send(P.HEARTBEAT)
    host.send(P.SET_PILOT, (160,))
    hal.car = "C"
    hal.run(bridge, 300)
    assert not hal.relay_cmd                            # not enabled
    host.send(P.SET_RELAY, (1,))
    hal.car = "B"
    hal.run(bridge, 300)
    assert not hal.relay_cmd                            # car does not ask
    hal.car = "C"
    hal.run(bridge, 100)
    assert hal.relay_cmd and hal.relay_fb
    hal.car = "B"
    hal.run(bridge, 100)
    assert not hal.relay_cmd


def test_ventilation_state_d_refused():
    hal, bridge, host = make_bridge()
    host.send(P.HEARTBEAT)
    host.send(P.SET_RELAY, (1,))
    host.send(P.SET_PILOT, (160,))
    hal.car = "D"
    hal.run(bridge, 300)
    assert not hal.relay_cmd and bridge.faults & P.F_VENT_REQUIRED
    hal.car = "C"
    hal.run(bridge, 300)
    assert hal.relay_cmd and not bridge.faults & P.F_VENT_REQUIRED


def test_welded_contact_detected_and_kept():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.welded = True
    hal.car = "B"
    hal.run(bridge, 1000)
    assert not hal.relay_cmd and hal.relay_fb
    assert bridge.faults & P.F_WELDED and hal.duty == pilot.DUTY_STEADY_LOW
    host.send(P.CLEAR_FAULTS)
    hal.run(bridge, 50)
    assert host.acks()[-1][2] == P.REFUSED and bridge.faults & P.F_WELDED
    host.send(P.SET_PILOT, (160,))
    hal.run(bridge, 50)
    assert host.acks()[-1][2] == P.REFUSED


def test_relay_stuck_open_detected():
    hal, bridge, host = make_bridge()
    hal.stuck_open = True
    host.send(P.HEARTBEAT)
    host.send(P.SET_RELAY, (1,))
    host.send(P.SET_PILOT, (160,))
    hal.car = "C"
    hal.run(bridge, 1000)
    assert bridge.faults & P.F_RELAY_STUCK and not hal.relay_cmd
    hal.stuck_open = False
    host.send(P.CLEAR_FAULTS)
    hal.run(bridge, 50)
    assert not bridge.faults & P.LATCHED


def test_missing_diode_latches_until_cleared():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.car_diode = False
    hal.run(bridge, 200)
    assert bridge.faults & P.F_DIODE and hal.duty == pilot.DUTY_STEADY_LOW
    assert not hal.relay_cmd
    hal.run(bridge, 500)
    assert bridge.faults & P.F_DIODE                    # latched
    hal.car_diode = True
    host.send(P.CLEAR_FAULTS)
    host.send(P.SET_PILOT, (160,))
    hal.run(bridge, 300)
    assert not bridge.faults & P.LATCHED and hal.duty == pilot.current_to_duty(160)


def test_shorted_pilot_is_state_e_fault():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.pilot_shorted = True
    hal.run(bridge, 200)
    assert bridge.faults & P.F_PILOT_ERROR and not hal.relay_cmd
    faults = [v for t, s, v in host.poll() if t == P.FAULT]
    assert faults and faults[-1][1] & P.F_PILOT_ERROR


# ---------------------------------------------------------------- S0
def test_s0_pulses_counted_and_bounce_ignored():
    hal, bridge, host = make_bridge()
    hal.s0 = S0Meter(imp_per_kwh=1000, power_w=3600, bounce=True)   # 1 pulse per second
    hal.run(bridge, 10500)
    status = host.last(P.STATUS)
    assert status["pulses"] == hal.s0.emitted and 9 <= status["pulses"] <= 11
    assert abs(status["pulse_interval_ms"] - 1000) <= 1
    assert hal.pulses.bounces == hal.s0.emitted
    c = PulseCounter(ticks_diff)
    c.on_edge(TICKS_MASK - 5)
    c.on_edge(40)                                       # across the tick wrap
    assert c.count == 2 and c.interval_ms == 46


# ---------------------------------------------------------------- the bridge on the wire
def test_hello_and_status_fields():
    hal, bridge, host = make_bridge(freq_fn=lambda t: 49987)
    host.send(P.HELLO, (P.PROTOCOL_VERSION,))
    hal.run(bridge, 1100)
    hello = host.last(P.HELLO_REPLY)
    assert hello["version"] == P.PROTOCOL_VERSION and hello["max_current_da"] == 160
    status = host.last(P.STATUS)
    assert abs(status["freq_mhz"] - 49987) <= 2
    assert chr(status["pilot_state"]) == "A"
    assert status["flags"] & P.FL_WATCHDOG_TRIPPED     # no heartbeat yet


def test_bad_commands_get_a_reason_and_change_nothing():
    hal, bridge, host = make_bridge()
    host.send(P.HEARTBEAT)
    host.send(P.SET_PILOT, (59,))
    host.send(P.SET_PILOT, (161,))                      # above the 16 A installation limit
    host.send(P.SET_RELAY, (2,))
    host.send(P.SET_DROOP, (1, 50000, 100, 200, 0, 400))
    hal.rx.extend(P.encode_frame(P.SET_PILOT, 50, b"\x01"))
    hal.rx.extend(P.encode_frame(0x42, 51, b""))
    hal.rx.extend(P.encode_frame(P.ACK, 52, b"\x01\x02\x03"))
    hal.run(bridge, 50)
    codes = [a[2] for a in host.acks()]
    assert codes == [P.OK, P.OUT_OF_RANGE, P.OUT_OF_RANGE, P.OUT_OF_RANGE, P.OUT_OF_RANGE,
                     P.BAD_LENGTH, P.UNKNOWN_TYPE, P.UNKNOWN_TYPE]
    assert bridge.set_da == 0 and not bridge.relay_enable and not bridge.droop.enabled


def test_bridge_keeps_working_through_garbage():
    hal, bridge, host = make_bridge()
    rng = Rng(99)
    for i in range(50):
        hal.rx.extend(bytes([rng.below(256) for _ in range(rng.below(40))]))
        host.send(P.HEARTBEAT)
        hal.run(bridge, 20)
    acks = host.acks()
    assert len(acks) == 50 and all(a[2] == P.OK for a in acks)
    assert bridge.reader.bad_frames > 10
    hal.run(bridge, 500)
    assert host.last(P.STATUS)["bad_frames"] == min(bridge.reader.bad_frames, 0xFFFF)


def test_config_file_validation():
    cfg, errors = validate({"max_current_da": 320, "watchdog_ms": 5})
    assert cfg["max_current_da"] == 320 and cfg["watchdog_ms"] == DEFAULTS["watchdog_ms"]
    assert len(errors) == 1 and "watchdog_ms" in errors[0]
    cfg, errors = validate({"nope": 1, "allow_ventilation": 1, "fallback_da": 30})
    assert len(errors) == 3 and cfg["fallback_da"] == 0
    hal = SimHal()
    bridge = Bridge(hal, cfg, errors)
    assert bridge.faults & P.F_BAD_CONFIG


def test_contactor_logic_alone():
    c = Contactor(ticks_diff, settle_ms=100, open_delay_ms=3000)
    assert c.decide(0, True, True, False)
    assert c.decide(10, False, True, False)             # car still drawing: wait
    assert c.decide(2000, False, True, False)
    assert not c.decide(3010, False, True, False)       # grace over: open
    assert c.decide(3100, True, True, False)
    assert not c.decide(3200, False, False, True)       # fault: at once
    assert not c.check(3250, True)                      # within settle
    assert c.check(3400, True) and c.welded
