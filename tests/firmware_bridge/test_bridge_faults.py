"""Field faults, each a defect once found in review: interrupts inside a step, multi-day
uptime (tick wrap), two-edge detectors, a host that stops reading, exceptions from any HAL
call, noisy ADC and feedback. Same rules as test_bridge_firmware.py: they run under CPython
and under MicroPython (64-bit unix port and the 32-bit webassembly port, where interrupt
handlers run with the heap locked and small ints have 31 bits as on the RP2040).
"""
from bridge_case_util import (Host, alloc_bytes, frames_of, make_bridge, measure, run_alive,
                              start_charging)
from firmware_bridge import pilot
from firmware_bridge import protocol as P
from firmware_bridge.bridge import Bridge
from firmware_bridge.config import validate
from firmware_bridge.edges import COUNT_MASK, EdgeRing
from firmware_bridge.hal_sim import HAL_CALLS, Mains, PilotWave, Rng, S0Meter, SimHal
from firmware_bridge.supervisor import Supervisor

WRAP_MS = 1 << 29            # ticks_diff is right only within half the 2**30 tick period


# ------------------------------------------------ 1: an S0 pulse later than the step's clock
def test_s0_pulse_inside_a_step_never_crashes():
    hal, bridge, host = make_bridge()
    hal.s0 = S0Meter(imp_per_kwh=10000, power_w=11000)        # a pulse every 32.7 ms
    hal.call_us = 300                 # each HAL call takes time: pulses land mid-step
    start_charging(hal, bridge, host)
    run_alive(hal, bridge, host, 15000)
    statuses = frames_of(host, P.STATUS)
    assert len(statuses) >= 20
    for st in statuses:
        status = P.as_dict(P.STATUS, st)
        assert 0 <= status["ms_since_pulse"] <= 400, status
    assert 0 <= hal.pulses.total() - status["pulses"] <= 20 and status["pulses"] > 400


def test_irq_between_any_two_hal_calls():
    """Crossings and S0 pulses fired inside every HAL call, with the heap locked."""
    hal, bridge, host = make_bridge()
    fired = [0]

    def inject(name):
        fired[0] += 1
        hal.irq_pulse(hal.ticks_us() // 1000 + 1)               # stamped after now_ms
        if fired[0] % 7 == 0:
            hal.irq_crossing(hal.ticks_us())

    start_charging(hal, bridge, host)
    hal.pulses.debounce_ms = 0         # every injected edge counts, each one a tick ahead
    hal.on_call = inject
    run_alive(hal, bridge, host, 3000)
    status = host.last(P.STATUS)
    assert fired[0] > 10000 and status["ms_since_pulse"] <= 1 and hal.relay_cmd
    assert bridge.freq.valid and not bridge.faults


# ------------------------------------------------ 2: 2**30 zero crossings
def test_crossing_ring_wraps_without_allocating():
    ring = EdgeRing(64)
    ring._count[0] = ring._count[1] = COUNT_MASK - 20
    hal = SimHal()
    hal.edges = ring
    for i in range(50):
        hal.irq_crossing(i)                  # heap locked, as in the hard IRQ
    out = []
    ring.take(out)
    assert out == list(range(50)) and ring._count[0] == 29


def test_frequency_across_the_edge_count_wrap():
    hal, bridge, host = make_bridge(jitter_us=20)
    hal.edges._count[0] = hal.edges._count[1] = COUNT_MASK - 30
    hal.run(bridge, 3000)
    assert bridge.freq.valid and abs(bridge.freq.freq_mhz - 50000) < 10
    assert not bridge.faults & P.F_NO_MAINS


# ------------------------------------------------ 3: exceptions from any HAL call
def supervised(cfg=None):
    hal = SimHal()
    cfg = cfg or validate({"restart_delay_ms": 500})[0]
    sup = Supervisor(hal, lambda restarts: Bridge(hal, cfg, (), restarts), cfg["restart_delay_ms"])
    sup.start()
    return hal, sup, Host(hal)


def charge_supervised(hal, sup, host):
    host.send(P.HEARTBEAT)
    host.send(P.SET_RELAY, (1,))
    host.send(P.SET_PILOT, (160,))
    hal.car = "C"
    for _ in range(300):
        hal.advance(1000)
        sup.step()
    assert hal.relay_cmd and hal.duty == pilot.current_to_duty(160)


def test_exception_in_any_hal_call_is_safe_at_once_then_restarts():
    for name in HAL_CALLS:
        hal, sup, host = supervised()
        charge_supervised(hal, sup, host)
        host.got = []
        hal.fail_call = name
        hal.fail_after = 0 if name == "set_relay" else 3
        steps = 0
        while sup.restarts == 0 and sup.bridge is not None and steps < 100:
            host.send(P.GET_STATUS)                   # something to write every step
            host.send(P.SET_PILOT, (130 if steps % 2 else 160,))    # a new duty
            if steps == 50:
                hal.car = "B"                         # the contactor opens
            hal.advance(1000)
            sup.step()
            steps += 1
        hal.car = "C"
        assert sup.bridge is None, name + " never raised"
        # the same step: pilot -12 V (state F) and the contactor open
        assert hal.duty == pilot.DUTY_STEADY_LOW and not hal.relay_cmd, name
        t_fail = hal.now_us
        while sup.bridge is None:
            assert hal.duty == pilot.DUTY_STEADY_LOW and not hal.relay_cmd
            hal.advance(1000)
            sup.step()
        assert 500000 <= hal.now_us - t_fail <= 502000
        for _ in range(50):
            hal.advance(1000)
            sup.step()
        assert host.last(P.HELLO_REPLY) is not None
        fault = host.last(P.FAULT)
        assert fault["raised"] & P.F_RESTARTED, name
        assert hal.duty == pilot.DUTY_STEADY_HIGH and not hal.relay_cmd   # waits for the host
        charge_supervised(hal, sup, host)                                  # clean restart
        assert sup.restarts == 1 and sup.last_error == "OSError"


def test_a_permanent_failure_never_offers_current():
    hal, sup, host = supervised()
    charge_supervised(hal, sup, host)
    offered = []
    for _ in range(6000):
        hal.fail_call = "read_pilot_mv"
        hal.fail_after = 0
        hal.advance(1000)
        sup.step()
        if sup.restarts == 0 and sup.bridge is not None:
            continue                                 # before the first failure
        if hal.relay_cmd or hal.duty not in (pilot.DUTY_STEADY_LOW, pilot.DUTY_STEADY_HIGH):
            offered.append(hal.now_us)
    assert not offered and sup.restarts >= 2 and sup.delay_ms > 500


# ------------------------------------------------ 4: the diode before the contactor
def test_contactor_waits_for_the_diode_check():
    for diode in (False, True):
        hal, bridge, host = make_bridge()
        hal.car = "C"                      # plugged in and asking before any offer
        hal.car_diode = diode
        host.send(P.HEARTBEAT)
        host.send(P.SET_RELAY, (1,))
        hal.run(bridge, 300)               # state C known from the steady +12 V
        assert bridge.monitor.state == "C" and not hal.relay_log
        host.send(P.SET_PILOT, (160,))     # the PWM starts
        hal.run(bridge, 300)
        if not diode:
            assert not hal.relay_log, "closed before the diode was seen: %r" % hal.relay_log
            assert bridge.faults & P.F_DIODE and hal.duty == pilot.DUTY_STEADY_LOW
            continue
        pwm_us = [t for t, d in hal.pilot_log if d == pilot.current_to_duty(160)][0]
        closed_ms = (hal.relay_log[0][0] - pwm_us) // 1000
        measure("contactor_close_after_pwm_start_ms", closed_ms)
        assert 40 <= closed_ms <= 80      # three diode samples (20 ms apart) with PWM running


# ------------------------------------------------ 5: SET_RELAY 0 under load
def test_relay_off_stops_the_offer_before_opening():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    host.send(P.SET_RELAY, (0,))
    t0 = hal.now_us
    hal.run(bridge, 5)
    assert hal.duty == pilot.DUTY_STEADY_HIGH and hal.relay_cmd    # offer withdrawn first
    hal.run(bridge, 200)
    assert hal.relay_cmd                                          # the car still draws
    hal.car = "B"                                                 # it stops
    hal.run(bridge, 100)
    assert not hal.relay_cmd
    open_us = hal.relay_log[-1][0]
    assert open_us - t0 >= 200000


# ------------------------------------------------ 6: two edges per mains cycle
def test_two_edge_detector_never_drops_the_frequency():
    hal, bridge, host = make_bridge(jitter_us=30, double_edge=True)
    start_charging(hal, bridge, host, 160)
    host.send(P.SET_DROOP, (1, 50000, 100, 200, 0, 160))
    for _ in range(60):                   # 30 s, a step every 5 ms
        host.send(P.HEARTBEAT)
        hal.run(bridge, 500, step_us=5000)
    faults = frames_of(host, P.FAULT)
    assert not [f for f in faults if f[1] & P.F_NO_MAINS], faults
    assert bridge.freq.restarts == 0 and bridge.freq.valid
    assert abs(bridge.freq.freq_mhz - 50000) < 10
    assert bridge.freq.rejected > 1400        # the other half-cycle's edges


# ------------------------------------------------ 7: a host that stops reading
def test_host_that_stops_reading_never_stalls_the_loop():
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.tx_capacity = 256                 # the USB CDC FIFO: the Pi stops reading
    hal.max_feed_gap_us = 0
    for _ in range(40):
        host.send(P.HEARTBEAT)
        host.send(P.GET_STATUS)
        hal.run(bridge, 50)
    assert hal.max_feed_gap_us <= 1000 and bridge.out.dropped > 10
    hal.pilot_shorted = True              # a fault while the host is deaf
    t0 = hal.now_us
    hal.run(bridge, 200)
    assert not hal.relay_cmd and hal.duty == pilot.DUTY_STEADY_LOW
    assert (hal.relay_log[-1][0] - t0) <= 80000
    assert hal.max_feed_gap_us <= 1000
    hal.tx_capacity = None                # reading again: frames flow, the stream resyncs
    host.poll()
    host.got = []
    hal.run(bridge, 600)                  # the stale queue drains, then a fresh STATUS
    assert host.last(P.STATUS)["faults"] & P.F_PILOT_ERROR


# ------------------------------------------------ 8: ticks wrap after 2**29 ms
def test_days_without_pulse_or_heartbeat_across_tick_wrap():
    hal, bridge, host = make_bridge()
    hal.mains.enabled = False
    hal.s0 = S0Meter(imp_per_kwh=1000, power_w=3600)
    start_charging(hal, bridge, host)
    hal.run(bridge, 2000)
    hal.s0.power_w = 0
    hal.car = "A"
    hal.run(bridge, 100)
    # 7 days in 10 min steps: no pulse, no heartbeat
    host.poll()
    for i in range(7 * 24 * 6):
        hal.advance(600000000)
        bridge.step()
        if i % 64 == 0:
            hal.take_tx()                  # a STATUS every step: keep the last only
    host.got = []
    status = P.as_dict(P.STATUS, frames_of(host, P.STATUS)[-1])
    assert status["ms_since_pulse"] >= 7 * 24 * 3600 * 1000
    assert status["watchdog_ms"] == 0xFFFF
    assert hal.now_us // 1000 > WRAP_MS + 2000
    # the contact welds shut on its own after a week open: still seen
    hal.relay_fb = True
    hal.welded = True
    hal.run(bridge, 100)
    assert bridge.faults & P.F_WELDED


# ------------------------------------------------ 9: noisy contactor feedback
def test_noisy_feedback_never_latches_and_a_weld_is_still_found():
    hal, bridge, host = make_bridge()
    hal.fb_flip_ppm = 20000                # 2 % of feedback reads wrong
    start_charging(hal, bridge, host)
    run_alive(hal, bridge, host, 5000)
    hal.car = "B"
    run_alive(hal, bridge, host, 4000)
    assert not bridge.faults & P.LATCHED, bridge.faults
    hal.car = "C"
    run_alive(hal, bridge, host, 1000)
    hal.welded = True
    hal.car = "B"
    t0 = hal.now_us
    run_alive(hal, bridge, host, 1000)
    assert bridge.faults & P.F_WELDED
    assert hal.duty == pilot.DUTY_STEADY_LOW


def test_feedback_polarity_from_config():
    cfg, errors = validate({"relay_fb_closed_level": 1, "relay_fb_debounce": 3})
    assert not errors and cfg["relay_fb_closed_level"] == 1
    cfg, errors = validate({"relay_fb_closed_level": 2})
    assert errors and cfg["relay_fb_closed_level"] == 0


# ------------------------------------------------ 10: heap churn
class QuietHal:
    """An allocation-free HAL: measures what the bridge itself allocates."""
    ticks_diff = staticmethod(lambda a, b: a - b)

    def __init__(self):
        self.ms = 0
        self.rx = bytearray(64)
        self.rx_n = 0
        self.levels = (9000, -12000)
        self.pulses = __import__("firmware_bridge.pulses").pulses.PulseCounter(self.ticks_diff)
        self.written = 0

    def ticks_ms(self):
        return self.ms

    def serial_read_into(self, buf):
        n = self.rx_n
        for i in range(n):
            buf[i] = self.rx[i]
        self.rx_n = 0
        return n

    def serial_room(self):
        return 512

    def serial_write(self, buf, off, n):
        self.written += n

    def set_pilot_duty(self, permille):
        pass

    def read_pilot_mv(self):
        return self.levels

    def set_relay(self, closed):
        pass

    def relay_feedback(self):
        return False

    def take_crossings(self, out):
        pass

    def feed_watchdog(self):
        pass


def test_allocations_per_step_and_per_frame():
    hal = QuietHal()
    bridge = Bridge(hal)
    for _ in range(600):
        hal.ms += 1
        bridge.step()

    def idle_steps():
        for _ in range(19):              # between two pilot samples and two reports
            hal.ms += 1
            bridge.step()
    bridge._last_sample_ms = bridge._last_report_ms = hal.ms
    per_idle = alloc_bytes(idle_steps)
    frame = P.message(P.HEARTBEAT, 1)
    hal.rx[:len(frame)] = frame

    def one_frame():
        hal.rx_n = len(frame)
        hal.ms += 1
        bridge.step()
    per_frame = alloc_bytes(one_frame)

    def one_status():
        hal.ms += 1
        bridge.send_status(hal.ms)
    per_status = alloc_bytes(one_status)
    if per_idle is not None:             # MicroPython only: CPython has no heap counter
        measure("alloc_bytes_per_idle_step", per_idle // 19)
        measure("alloc_bytes_per_command_frame", per_frame)
        measure("alloc_bytes_per_status_frame", per_status)
        assert per_idle == 0, per_idle
        assert per_frame < 1600 and per_status < 1200, (per_frame, per_status)
    assert hal.written > 0


# ------------------------------------------------ 11: spikes and ringing on the pilot
def wave(hal, **kw):
    hal.pilot_wave = PilotWave(Rng(17), **kw)


def test_pilot_spikes_and_ringing_do_not_reach_state_or_diode():
    hal, bridge, host = make_bridge()
    wave(hal, noise_mv=200, ring_mv=3000, spike_mv=5000, spike_ppm=5000)
    start_charging(hal, bridge, host)
    run_alive(hal, bridge, host, 4000)
    assert len(hal.relay_log) == 1 and hal.relay_cmd and not bridge.faults & P.LATCHED
    assert bridge.monitor.state == "C"
    hal.car_diode = False                  # spikes must not fake a diode either
    run_alive(hal, bridge, host, 500)
    assert bridge.faults & P.F_DIODE and not hal.relay_cmd


def test_short_low_plateau_at_80_amps():
    cfg, errors = validate({"max_current_da": 800})
    hal, bridge, host = make_bridge(cfg=cfg)
    wave(hal, noise_mv=200, ring_mv=3000, spike_mv=5000, spike_ppm=2000)
    start_charging(hal, bridge, host, 800)
    assert hal.duty == 960                 # 96 %: the low plateau lasts 40 us
    run_alive(hal, bridge, host, 3000)
    assert hal.relay_cmd and not bridge.faults & P.LATCHED
    assert bridge.monitor.low_mv < -11000
    hal.car_diode = False
    run_alive(hal, bridge, host, 500)
    assert bridge.faults & P.F_DIODE
