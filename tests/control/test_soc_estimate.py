"""SoC estimation by energy counting, against the simulated car's true state of charge."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from hems.control.soc_estimate import CarBattery, SocTrack, entered, observe
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
from hems.domain import ChargerReading, ChargerState
from hems.domain.soc import SocKnowledge, SocSource, may_discharge

T0 = datetime(2024, 6, 3, tzinfo=timezone.utc)


def reading(at, power_w, soc=None, state=None):
    if state is None:
        state = ChargerState.CHARGING if power_w > 0 else (
            ChargerState.DISCHARGING if power_w < 0 else ChargerState.CONNECTED)
    return ChargerReading(at=at, ev_power_w=power_w, state=state, soc_pct=soc)


BATTERY = CarBattery(capacity_wh=60_000, charge_efficiency=0.92, discharge_efficiency=0.92)


def test_measured_reading_is_measured():
    track = observe(SocTrack(), reading(T0, 0.0, soc=61.0), BATTERY)
    assert track.known.source is SocSource.MEASURED and track.known.soc_pct == 61.0


def test_nothing_known_stays_unknown_whatever_flows():
    track = SocTrack()
    for k in range(10):
        track = observe(track, reading(T0 + timedelta(seconds=10 * k), 7000.0), BATTERY)
    assert track.known is None


def test_counting_moves_value_and_widens_error():
    track = entered(SocTrack(), 40.0, T0, BATTERY)
    for k in range(61):                                   # a reading a minute for an hour
        track = observe(track, reading(T0 + timedelta(minutes=k), 6000.0), BATTERY)
    # 6 kWh AC * 0.92 = 5.52 kWh stored = 9.2 % of 60 kWh
    assert track.known.soc_pct == pytest.approx(49.2)
    assert track.known.source is SocSource.ESTIMATED
    assert track.known.error_pct == pytest.approx(BATTERY.entered_error_pct + 9.2 * 0.05)


def test_discharge_moves_down_through_efficiency():
    track = observe(SocTrack(), reading(T0, -5000.0, soc=80.0), BATTERY)
    for k in range(1, 61):
        track = observe(track, reading(T0 + timedelta(minutes=k), -5000.0), BATTERY)
    assert track.known.soc_pct == pytest.approx(80.0 - 5000 / 0.92 / 60_000 * 100)


def test_unplug_forgets():
    track = observe(SocTrack(), reading(T0, 0.0, soc=70.0), BATTERY)
    track = observe(track, reading(T0 + timedelta(minutes=1), 0.0, state=ChargerState.NO_CAR), BATTERY)
    assert track.known is None


def test_gap_widens_error_by_the_whole_gap():
    track = observe(SocTrack(), reading(T0, 7000.0, soc=50.0), BATTERY)
    track = observe(track, reading(T0 + timedelta(hours=1), 7000.0), BATTERY)
    delta = 7000 * 0.92 / 60_000 * 100
    assert track.known.error_pct == pytest.approx(BATTERY.measured_error_pct + delta)


def test_owner_entry_refuses_nonsense():
    with pytest.raises(ValueError, match="between 0 and 100"):
        entered(SocTrack(), 130.0, T0, BATTERY)


@pytest.mark.parametrize("known, allowed", [
    (None, False),
    (SocKnowledge(60.0, SocSource.MEASURED, T0, 1.0), True),
    (SocKnowledge(22.0, SocSource.MEASURED, T0, 1.0), True),
    (SocKnowledge(22.0, SocSource.ESTIMATED, T0, 3.0), False),   # could be 19 %
    (SocKnowledge(30.0, SocSource.ENTERED, T0, 5.0), True),
])
def test_discharge_rule(known, allowed):
    assert may_discharge(known, reserve_pct=20.0) is allowed


def week_of_trips(seed, battery_spec_eff=0.90, est_eff=0.92, poll_s=10.0):
    """A week with the simulated car: charging and V2G sessions, trips away, an AC charger that
    never reports SoC; the owner enters the level (from the car's gauge, +-3 %) at each plug-in."""
    rng = random.Random(seed)
    car = CarSpec(charge_efficiency=battery_spec_eff, discharge_efficiency=battery_spec_eff)
    plant = ChargePoint(ChargerSpec(phases=3, max_current_a=16, reports_soc=False), car, soc_pct=55.0)
    battery = CarBattery(capacity_wh=car.capacity_wh, charge_efficiency=est_eff, discharge_efficiency=est_eff)
    at = T0
    plant.advance(at)
    track = entered(SocTrack(), plant.soc_pct + rng.uniform(-3, 3), at, battery)
    errors, covered = [], []
    end = T0 + timedelta(days=7)
    while at < end:
        if at.hour == 7 and at.minute == 0 and rng.random() < 0.8:       # a trip
            plant.unplug()
            track = observe(track, reading(at, 0.0, state=ChargerState.NO_CAR), battery)
            plant.drive(rng.uniform(20, 90))
            at += timedelta(hours=rng.uniform(3, 10))
            plant.advance(at)
            plant.plug()
            track = entered(track, min(100, max(0, plant.soc_pct + rng.uniform(-3, 3))), at, battery)
        if at.minute == 0:
            plant.command(rng.choice([0.0, 0.0, 11_000.0, 4_200.0, -7_000.0]))
        at += timedelta(seconds=poll_s)
        plant.advance(at)
        r = reading(at, plant.actual_w, soc=plant.reported_soc_pct)
        track = observe(track, r, battery)
        if track.known is not None:
            err = abs(track.known.soc_pct - plant.soc_pct)
            errors.append(err)
            covered.append(err <= track.known.error_pct + 1e-6)
    return errors, covered


def test_week_estimate_stays_within_its_error_bound():
    errors, covered = week_of_trips(seed=3)
    print(f"SoC estimate over a week: mean error {sum(errors) / len(errors):.2f} %, max {max(errors):.2f} %")
    assert len(errors) > 10_000
    assert all(covered), f"true SoC outside the bound in {covered.count(False)} samples"
    assert sum(errors) / len(errors) < 3.0
