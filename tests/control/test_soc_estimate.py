"""SoC estimation by energy counting, against the simulated car's true state of charge."""
import sys
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest

from hems.control.soc_estimate import CarBattery, SocTrack, entered, observe
from hems.domain import ChargerReading, ChargerState
from hems.domain.soc import SocKnowledge, SocSource, may_discharge

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from soc_estimate import simulate_week  # noqa: E402  (bench/soc_estimate.py, shared with the benchmark)

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


def test_week_estimate_stays_within_its_error_bound():
    r = simulate_week(seed=3)
    assert len(r.errors_pct) > 10_000
    assert r.outside == 0, f"true SoC outside the bound in {r.outside} samples"
    assert sum(r.errors_pct) / len(r.errors_pct) < 3.0
