"""Firmware behaviour under CPython (pytest) and real MicroPython (mp_runner.py): watchdog,
contactor and faults, S0, the bridge on the wire, config. Same rules as test_bridge_firmware.py.
"""
from bridge_case_util import make_bridge, measure, start_charging
from firmware_bridge import pilot
from firmware_bridge import protocol as P
from firmware_bridge.bridge import Bridge
from firmware_bridge.config import DEFAULTS, validate
from firmware_bridge.contactor import Contactor
from firmware_bridge.hal_sim import TICKS_MASK, Rng, S0Meter, SimHal, ticks_diff
from firmware_bridge.pulses import PulseCounter

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
    c = Contactor(ticks_diff, settle_ms=100, open_delay_ms=3000, debounce=1)
    assert c.decide(0, True, True, False)
    assert c.decide(10, False, True, False)             # car still drawing: wait
    assert c.decide(2000, False, True, False)
    assert not c.decide(3010, False, True, False)       # grace over: open
    assert c.decide(3100, True, True, False)
    assert not c.decide(3200, False, False, True)       # fault: at once
    assert not c.check(3250, True)                      # within settle
    assert c.check(3400, True) and c.welded
