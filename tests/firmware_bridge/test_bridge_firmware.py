"""Firmware tests that run unchanged under CPython (pytest) and real MicroPython (mp_runner.py):
framing, pilot tables, frequency estimation, droop.

Plain functions and asserts only: no pytest features, no typing, nothing MicroPython lacks.
Lines starting with "MEASURE" carry the numbers the README quotes.
"""
from bridge_case_util import make_bridge, measure, run_alive, start_charging
from firmware_bridge import pilot
from firmware_bridge import protocol as P
from firmware_bridge.frequency import Droop, FrequencyEstimator
from firmware_bridge.hal_sim import TICKS_MASK, Mains, Rng, ticks_diff

WRAP_US = 1 << 30

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


def test_frequency_60hz_grid_with_default_config():
    errors, est = run_estimator(lambda t: 60000, 20, jitter_us=30)
    mean, rms, worst = stats(errors)
    assert abs(est.freq_mhz - 60000) < 15 and rms < 8
