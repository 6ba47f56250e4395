from datetime import datetime, timedelta, timezone

import numpy as np

from hems.control.decide import CarLimits, apply_commitments, interim_request, must_charge_now, plan_request
from hems.domain import ChargerReading, ChargerState, Commitment, MeterReading, Mode, Plan, SiteState

T = datetime(2024, 6, 3, 12, tzinfo=timezone.utc)
CAR = CarLimits(capacity_wh=60000, min_charge_w=4140, max_charge_w=11000, charge_efficiency=0.9)


def st(grid_w, ev_w=0.0, soc=50.0, plugged=True):
    return SiteState(at=T, meter=MeterReading(at=T, grid_power_w=grid_w), pv=None,
                     charger=ChargerReading(at=T, ev_power_w=ev_w, soc_pct=soc,
                                            state=ChargerState.CONNECTED if plugged else ChargerState.NO_CAR))


def test_must_charge_now_at_the_latest_safe_moment():
    # 30 % of 60 kWh at 90 % -> 20 kWh AC; x1.15 margin = 23 kWh -> 2.09 h at 11 kW
    assert not must_charge_now(50, 80, T + timedelta(hours=2.2), T, CAR)
    assert must_charge_now(50, 80, T + timedelta(hours=2.0), T, CAR)
    assert not must_charge_now(85, 80, T + timedelta(minutes=5), T, CAR)


def test_interim_rules():
    far = T + timedelta(hours=20)
    assert interim_request(st(-6000), Mode.SMART, far, 80, CAR, T)[0] == 6000   # solar surplus
    assert interim_request(st(-2000), Mode.SMART, far, 80, CAR, T)[0] == 0      # too little surplus
    # the car's own 5000 W charging is not counted against the surplus
    assert interim_request(st(-1000, ev_w=5000), Mode.SMART, far, 80, CAR, T)[0] == 6000
    assert interim_request(st(500), Mode.FAST, far, 80, CAR, T)[0] == 11000
    assert interim_request(st(-6000), Mode.OFF, far, 80, CAR, T)[0] == 0
    assert interim_request(st(-6000, plugged=False), Mode.FAST, far, 80, CAR, T)[0] == 0
    soon = T + timedelta(hours=1)
    power_w, reason = interim_request(st(500), Mode.SMART, soon, 80, CAR, T)
    assert power_w == 11000 and "80 %" in reason


def test_plan_request_reads_current_interval():
    plan = Plan(start=T, interval_s=900, ev_w=np.array([0.0, 7000.0, -5000.0]),
                soc_pct=np.array([50.0, 50, 52, 50]), grid_w=np.zeros(3), cost=0.0)
    assert plan_request(plan, T + timedelta(minutes=20))[0] == 7000
    assert plan_request(plan, T + timedelta(minutes=31))[0] == -5000
    assert plan_request(plan, T + timedelta(hours=1)) is None


def test_commitments_bound_the_request_only_in_their_window():
    c = Commitment(id="e1", start=T, end=T + timedelta(hours=1), min_ev_w=-8000, max_ev_w=-8000)
    assert apply_commitments(5000, "x", [c], T + timedelta(minutes=5))[0] == -8000
    assert apply_commitments(5000, "x", [c], T + timedelta(hours=2)) == (5000, "x")


def test_battery_care_holds_at_the_soft_maximum_until_the_last_hours():
    from hems.control.decide import battery_care_hold, battery_care_max_pct
    leave = T + timedelta(hours=10)
    # at 80 % with a trip asking 90 %: hold until 2 h before leaving
    assert battery_care_hold(80.0, 80.0, 2.0, leave, 90.0, T, CAR)
    assert not battery_care_hold(80.0, 80.0, 2.0, leave, 90.0, leave - timedelta(hours=1.9), CAR)
    # below the soft maximum, or no soft maximum: never held
    assert not battery_care_hold(79.0, 80.0, 2.0, leave, 90.0, T, CAR)
    assert not battery_care_hold(85.0, None, 2.0, leave, 90.0, T, CAR)
    # no trip asking more: held for good
    assert battery_care_hold(80.0, 80.0, 2.0, None, 0.0, T, CAR)
    assert battery_care_hold(80.0, 80.0, 2.0, leave, 75.0, T, CAR)
    # a window too short for 80 -> 100 %: released as soon as charging must start to make it
    assert battery_care_hold(80.0, 80.0, 0.25, T + timedelta(hours=1.5), 100.0, T, CAR)      # 1.39 h needed
    assert not battery_care_hold(80.0, 80.0, 0.25, T + timedelta(hours=1.3), 100.0, T, CAR)
    assert battery_care_max_pct(100.0, 80.0, 70.0) == 80.0
    assert battery_care_max_pct(100.0, 80.0, 90.0) == 100.0
    assert battery_care_max_pct(100.0, None, 70.0) == 100.0
