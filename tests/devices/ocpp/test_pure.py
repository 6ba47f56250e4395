"""The pure parts: meter values, charging needs, profiles, and the simulated station's schedule."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from hems.devices.ocpp.profiles import Electrical, fallback_limit, profile_2x, profile_16, setpoint_limit
from hems.devices.ocpp.readings import (
    STATUS_2X, BadValue, PointState, charging_needs, ocpp_time, parse_time, reading, sampled_values,
)
from hems.devices.sim.ocpp.schedule import ProfileError, Schedule, parse_profile
from hems.domain import ChargerState

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def sv(value, measurand, **kw):
    return {"value": value, "measurand": measurand, **kw}


def test_meter_values_in_hems_units():
    m = sampled_values([{"timestamp": "x", "sampled_value": [
        sv("3.5", "Power.Active.Import", unit="kW"),
        sv(1.2, "Power.Active.Export", unit_of_measure={"unit": "kW"}),
        sv(12, "Energy.Active.Import.Register", unit_of_measure={"unit": "Wh", "multiplier": 3}),
        sv("55", "SoC", location="EV"),
        sv("7.1", "Current.Import", phase="L2-N"),
        sv("9999", "Power.Active.Import", location="Inlet"),          # not the charger's output
        sv("5", "Power.Active.Import", phase="L1"),                   # a phase value, not the total
    ]}], "1.6")
    assert (m.import_w, m.export_w, m.energy_import_wh, m.soc_pct) == (3500.0, 1200.0, 12000.0, 55.0)
    assert m.current_a == {"L2": 7.1}


@pytest.mark.parametrize("bad", ["NaN", "inf", "-Infinity", "abc", None, [1]])
def test_non_finite_or_non_numbers_are_refused(bad):
    with pytest.raises(BadValue, match="Power.Active.Import"):
        sampled_values([{"sampled_value": [sv(bad, "Power.Active.Import")]}], "2.0.1")


def test_an_impossible_soc_is_ignored():
    assert sampled_values([{"sampled_value": [sv(140, "SoC")]}], "2.0.1").soc_pct is None


def test_garbage_shapes_are_skipped_not_crashed():
    assert sampled_values("nope", "1.6").import_w is None
    assert sampled_values([1, {"sampled_value": [2, "x"]}], "1.6").import_w is None


def test_charging_needs_21_with_v2x():
    needs = charging_needs({
        "requested_energy_transfer": "AC_BPT", "departure_time": "2026-05-02T06:30:00Z",
        "ac_charging_parameters": {"energy_amount": 20000, "ev_min_current": 6, "ev_max_current": 16,
                                   "ev_max_voltage": 400},
        "v2x_charging_parameters": {"target_so_c": 80, "max_discharge_power": 7000}}, T0)
    assert needs.departure == datetime(2026, 5, 2, 6, 30, tzinfo=timezone.utc)
    assert (needs.energy_wh, needs.target_soc_pct, needs.bidirectional) == (20000.0, 80.0, True)


@pytest.mark.parametrize("raw,match", [
    ({"requested_energy_transfer": "DC", "departure_time": "tomorrow"}, "departureTime"),
    ({"requested_energy_transfer": "DC", "dc_charging_parameters": {"energy_amount": "NaN"}}, "energyAmount"),
    ({"requested_energy_transfer": "DC", "dc_charging_parameters": {"full_soc": 120}}, "targetSoC"),
])
def test_bad_charging_needs_are_refused(raw, match):
    with pytest.raises(BadValue, match=match):
        charging_needs(raw, T0)


def test_times():
    assert parse_time("2026-05-01T12:00:00", "t") == T0                       # no zone: UTC
    assert parse_time("2026-05-01T14:00:00+02:00", "t") == T0
    assert ocpp_time(T0 + timedelta(microseconds=123456)) == "2026-05-01T12:00:00.123Z"
    with pytest.raises(BadValue):
        parse_time(12, "t")


def test_the_reading_follows_status_and_power_sign():
    p = PointState(status_map=STATUS_2X, status="Occupied")
    p.measured.import_w, p.measured.export_w = 0.0, 3000.0
    p.soc_pct, p.max_discharge_w = 60.0, 7000.0
    r = reading(p, T0)
    assert (r.state, r.ev_power_w, r.soc_pct, r.max_discharge_w) == (ChargerState.DISCHARGING, -3000.0, 60.0, 7000.0)
    p.status = "Faulted"
    r = reading(p, T0)
    assert r.state is ChargerState.FAULT and r.fault and r.soc_pct is None


@pytest.mark.parametrize("power_w,unit,phases,rate", [
    (8000, "A", 3, 11.5), (4139, "A", 3, 5.9), (-5000, "A", 3, -7.2), (7400, "A", 1, 32.1),
    (7400.7, "W", 1, 7400.7), (0, "A", 3, 0.0),
])
def test_watts_to_the_charger_unit_never_round_up(power_w, unit, phases, rate):
    el = Electrical(phases, 230.0, unit)
    assert el.to_rate(power_w) == pytest.approx(rate)
    assert abs(el.to_w(el.to_rate(power_w))) <= abs(power_w) + 1e-9


def test_profiles_16_and_2x():
    el = Electrical(3, 230.0)
    limit = setpoint_limit(8000.0, T0, 60)
    p16 = profile_16(limit, el)
    assert (p16["charging_profile_id"], p16["stack_level"], p16["charging_profile_purpose"]) == (2, 1, "TxDefaultProfile")
    assert p16["valid_to"] == "2026-05-01T12:01:00.000Z" and p16["valid_from"] < ocpp_time(T0)
    assert p16["charging_schedule"]["charging_schedule_period"] == [{"start_period": 0, "limit": 11.5, "number_phases": 3}]
    fb = profile_2x(fallback_limit(6.0, el), el, offline_s=60)
    assert fb["stack_level"] == 0 and "valid_to" not in fb and "max_offline_duration" not in fb
    v2x = profile_2x(setpoint_limit(-5000.0, T0, 60), el, v2x=True, offline_s=60)
    period = v2x["charging_schedule"][0]["charging_schedule_period"][0]
    assert (period["operation_mode"], period["setpoint"], period["limit"], period["discharge_limit"]) == \
        ("CentralSetpoint", -7.2, 0.0, -7.2)
    assert v2x["max_offline_duration"] == 60 and v2x["invalid_after_offline_duration"] is True
    plain = profile_2x(setpoint_limit(-5000.0, T0, 60), el)
    assert plain["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 0.0   # never negative


def station_profile(pid, level, limit, valid_to=None, **kw):
    return {"charging_profile_id": pid, "stack_level": level, "charging_profile_purpose": "TxDefaultProfile",
            "charging_profile_kind": "Absolute", "valid_to": valid_to,
            "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": [
                {"start_period": 0, "limit": limit, **kw}]}}


def test_the_station_schedule_stacks_and_expires():
    s = Schedule(3, 230.0, default_w=32 * 690)
    assert s.power_w(T0) == 32 * 690                                       # no profile: its default
    s.install(parse_profile(station_profile(1, 0, 6), T0, v2x=False))
    s.install(parse_profile(station_profile(2, 1, 10, ocpp_time(T0 + timedelta(seconds=30))), T0, v2x=False))
    assert s.power_w(T0) == pytest.approx(10 * 690)
    assert s.next_change(T0) == T0 + timedelta(seconds=30)
    assert s.power_w(T0 + timedelta(seconds=30)) == pytest.approx(6 * 690)   # the fallback
    s.install(parse_profile(station_profile(3, 1, 8), T0, v2x=False))       # same level replaces id 2
    assert set(s.profiles) == {1, 3}


def test_the_station_refuses_what_it_cannot_do():
    with pytest.raises(ProfileError, match="cannot discharge"):
        parse_profile(station_profile(2, 1, 0, operation_mode="CentralSetpoint", setpoint=-5), T0, v2x=False)
    with pytest.raises(ProfileError, match="negative limit"):
        parse_profile(station_profile(2, 1, -5), T0, v2x=False)
    with pytest.raises(ProfileError, match="not finite"):
        parse_profile(station_profile(2, 1, math.nan), T0, v2x=False)


def test_a_21_profile_lapses_after_its_offline_duration():
    s = Schedule(3, 230.0, default_w=0.0)
    raw = station_profile(2, 1, 0, operation_mode="CentralSetpoint", setpoint=-7, discharge_limit=-10)
    raw.update(max_offline_duration=20, invalid_after_offline_duration=True)
    s.install(parse_profile(raw, T0, v2x=True))
    assert s.power_w(T0) == pytest.approx(-7 * 690)
    s.offline_since = T0
    assert s.power_w(T0 + timedelta(seconds=19)) == pytest.approx(-7 * 690)
    assert s.power_w(T0 + timedelta(seconds=20)) == 0.0
