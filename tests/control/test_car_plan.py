"""What the planner is told about the car, known or unknown charge level."""
from datetime import datetime, timezone

import pytest

from hems.control.car_plan import car_plan_inputs
from hems.domain import EvSession
from hems.domain.soc import SocKnowledge, SocSource

T = datetime(2024, 6, 3, tzinfo=timezone.utc)
TRIP = EvSession(datetime(2024, 6, 4, 5, 30, tzinfo=timezone.utc), 80.0)


def test_measured_plans_from_the_value_and_may_discharge():
    p = car_plan_inputs(SocKnowledge(60.0, SocSource.MEASURED, T, 1.0), TRIP, 20.0, 60_000)
    assert (p.start_pct, p.target_pct, p.allow_discharge, p.by_energy) == (59.0, 80.0, True, False)


def test_estimate_plans_from_its_lowest_value():
    p = car_plan_inputs(SocKnowledge(24.0, SocSource.ESTIMATED, T, 6.0), TRIP, 20.0, 60_000)
    assert p.start_pct == 18.0 and not p.allow_discharge


def test_unknown_plans_by_energy_without_discharge():
    trip = EvSession(TRIP.departure, 80.0, energy_wh=20_000)
    p = car_plan_inputs(None, trip, 20.0, 60_000)
    assert p.by_energy and not p.allow_discharge
    assert p.start_pct == 0.0 and p.target_pct == pytest.approx(100 / 3)
    assert p.describe(60_000) == "charge level unknown: planning to add 20.0 kWh"


def test_unknown_with_only_a_level_plans_the_most_that_can_be_needed():
    p = car_plan_inputs(None, TRIP, 20.0, 60_000)
    assert p.energy_wh == 48_000 and p.target_pct == 80.0


def test_unknown_without_trip_plans_nothing():
    p = car_plan_inputs(None, None, 20.0, 60_000)
    assert p.target_pct is None and not p.allow_discharge


def test_known_with_energy_trip_targets_level_plus_energy():
    trip = EvSession(TRIP.departure, 0.0, energy_wh=12_000)
    p = car_plan_inputs(SocKnowledge(50.0, SocSource.MEASURED, T, 0.0), trip, 20.0, 60_000)
    assert p.target_pct == pytest.approx(70.0)
