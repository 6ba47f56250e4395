"""Host-side pure parts of hems.devices.bridge, and property tests of the shared framing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import protocol as P
from hems.devices.bridge.devices import charger_state
from hems.devices.bridge.status import (
    BridgeStatus, DroopSettings, PulseTotal, power_to_current_da, pulse_power_w,
)
from hems.domain import ChargerState

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("power_w,phases,expected_da", [
    (0.0, 1, 0), (1379.0, 1, 0), (1380.0, 1, 60), (2300.0, 1, 100), (3680.0, 1, 160),
    (9999.0, 1, 160), (4140.0, 3, 60), (4139.0, 3, 0), (11040.0, 3, 160), (7000.0, 3, 101),
])
def test_power_to_current(power_w: float, phases: int, expected_da: int) -> None:
    assert power_to_current_da(power_w, 230.0, phases, 160) == expected_da


@pytest.mark.parametrize("bad", [-1.0, -3680.0, float("nan"), float("inf")])
def test_power_to_current_refuses_discharge_and_garbage(bad: float) -> None:
    with pytest.raises(ValueError):
        power_to_current_da(bad, 230.0, 1, 160)


def test_pulse_power() -> None:
    assert pulse_power_w(1000, 200, 1000) == pytest.approx(3600.0)
    assert pulse_power_w(1000, 4000, 1000) == pytest.approx(900.0)   # pulses stopped: decays
    assert pulse_power_w(500, 100, 2000) == pytest.approx(3600.0)
    assert pulse_power_w(0, 100, 1000) == 0.0
    assert pulse_power_w(1000, None, 1000) == 0.0


def test_pulse_total_across_wrap_and_reset() -> None:
    t = PulseTotal()
    assert t.update(2**32 - 3) == 0
    assert t.update(2) == 5                     # 32-bit wrap
    assert t.update(10) == 13
    assert t.update(4) == 17                    # the bridge restarted and counted 4
    assert t.update(6, bridge_reset=True) == 23


def status(**over) -> BridgeStatus:
    fields = dict(uptime_ms=1, freq_mhz=50012, pilot_state=ord("C"), pilot_high_mv=6000,
                  pilot_low_mv=-12000, pilot_set_da=160, pilot_out_da=160,
                  relay=P.RL_COMMANDED | P.RL_FEEDBACK | P.RL_FEEDBACK_WIRED, faults=0,
                  flags=P.FL_FREQ_VALID | P.FL_CHARGE_ENABLED, pulses=5, pulse_interval_ms=900,
                  ms_since_pulse=0xFFFFFFFF, bad_frames=0, watchdog_ms=10)
    fields.update(over)
    values = tuple(fields[n] for n in P.MESSAGES[P.STATUS][2])
    frame = P.FrameReader().feed(P.message(P.STATUS, 1, values))[0]
    return BridgeStatus.from_fields(AT, P.as_dict(P.STATUS, P.unpack(P.STATUS, frame[3])))


def test_status_decoding() -> None:
    s = status()
    assert s.frequency_hz == pytest.approx(50.012) and s.pilot_state == "C"
    assert s.pilot_out_a == 16.0 and s.relay_closed and s.relay_feedback is True
    assert s.ms_since_pulse is None and s.faults == ()
    assert status(flags=0).frequency_hz is None
    assert status(relay=P.RL_COMMANDED).relay_feedback is None
    assert status(pilot_state=ord("x")).pilot_state == "?"
    assert status(faults=P.F_WELDED | P.F_WATCHDOG).faults == ("watchdog", "welded_contact")


@pytest.mark.parametrize("over,expected", [
    (dict(pilot_state=ord("A")), ChargerState.NO_CAR),
    (dict(pilot_state=ord("B")), ChargerState.CONNECTED),
    (dict(), ChargerState.CHARGING),
    (dict(relay=0), ChargerState.CONNECTED),
    (dict(relay=P.RL_COMMANDED | P.RL_FEEDBACK_WIRED), ChargerState.CONNECTED),  # no feedback
    (dict(pilot_state=ord("E")), ChargerState.FAULT),
    (dict(faults=P.F_DIODE), ChargerState.FAULT),
    (dict(pilot_state=ord("D"), relay=0, faults=P.F_VENT_REQUIRED), ChargerState.FAULT),
    (dict(faults=P.F_WATCHDOG), ChargerState.CHARGING),     # host silence is not a car fault
    (dict(pilot_state=ord("?")), ChargerState.UNKNOWN),
])
def test_charger_state_mapping(over: dict, expected: ChargerState) -> None:
    assert charger_state(status(**over))[0] is expected


def test_droop_settings_units() -> None:
    d = DroopSettings(enabled=True, nominal_hz=50.0, deadband_hz=0.2, slope_a_per_hz=20.0,
                      min_a=0.0, max_a=16.0)
    assert d.values() == (1, 50000, 200, 200, 0, 160)
    P.pack(P.SET_DROOP, d.values())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_cobs_roundtrip_any_bytes(data: bytes) -> None:
    enc = P.cobs_encode(data)
    assert 0 not in enc and P.cobs_decode(enc) == data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=8), st.integers(60, 800))
def test_reader_survives_any_garbage_then_decodes(chunks: list[bytes], current_da: int) -> None:
    reader = P.FrameReader()
    for chunk in chunks:
        reader.feed(chunk)                       # never raises
    frames = reader.feed(P.message(P.SET_PILOT, 3, (current_da,)))
    assert frames[-1][1:3] == (P.SET_PILOT, 3)
    assert P.unpack(P.SET_PILOT, frames[-1][3]) == (current_da,)


def test_factory_shares_one_link() -> None:
    from hems.devices.bridge import build_bridge_devices
    devs = build_bridge_devices("/dev/null", phases=3, s0_imp_per_kwh=800, s0_measures_charger=True)
    assert set(devs) == {"bridge_frequency", "bridge_charger", "bridge_s0"}
    assert len({id(d.link) for d in devs.values()}) == 1
    assert devs["bridge_charger"].max_charge_w == pytest.approx(16 * 230 * 3)
    assert "bridge_s0" not in build_bridge_devices("/dev/null")
