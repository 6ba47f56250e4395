"""Small problems whose optimal plan is known by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hems.planner import solve

from .helpers import make_problem, violations

ONE_MAX_INTERVAL_PCT = 11000 * 0.92 * 0.25 / 60000 * 100   # 4.2167 % stored per interval at 11 kW


def test_charges_in_the_cheapest_interval():
    p = make_problem(4, import_price_per_kwh=[0.30, 0.10, 0.30, 0.30], max_discharge_w=0.0,
                     min_discharge_w=0.0, target_index=[4], target_soc_pct=[50 + ONE_MAX_INTERVAL_PCT])
    r = solve(p)
    assert violations(p, r) == []
    np.testing.assert_allclose(r.ev_w, [0, 11000, 0, 0], atol=1e-6)
    assert r.cost == pytest.approx(11000 * 0.25 / 1000 * 0.10)
    assert r.feasible and r.target_shortfall_pct == 0.0


def test_small_need_is_charged_at_the_minimum_power_not_below():
    need_pct = 500 / 60000 * 100     # 500 Wh: less than one interval at the 4140 W minimum
    p = make_problem(4, import_price_per_kwh=[0.30, 0.30, 0.12, 0.30], max_discharge_w=0.0,
                     min_discharge_w=0.0, target_index=[4], target_soc_pct=[50 + need_pct])
    r = solve(p)
    assert violations(p, r) == []
    assert np.count_nonzero(r.ev_w) == 1
    assert 4140 <= r.ev_w[2] <= 4140 + 30      # a LP would say 2174 W, which the charger cannot do
    assert r.soc_pct[-1] >= 50 + need_pct


def test_follows_pv_surplus_exactly():
    p = make_problem(4, pv_w=np.full(4, 6000.0), load_w=np.full(4, 1000.0), import_price_per_kwh=0.30,
                     export_price_per_kwh=0.0, terminal_value_per_kwh=0.2, max_discharge_w=0.0,
                     min_discharge_w=0.0)
    r = solve(p)
    assert violations(p, r) == []
    np.testing.assert_allclose(r.ev_w, 5000.0, atol=25.0)   # within one fine grid step of power
    assert np.all(np.abs(r.grid_w) <= 25.0)


def test_never_plans_power_while_unplugged():
    p = make_problem(4, plugged=[False, True, False, True], import_price_per_kwh=[0.01, 0.3, 0.01, 0.2],
                     target_index=[4], target_soc_pct=[50 + ONE_MAX_INTERVAL_PCT], max_discharge_w=0.0,
                     min_discharge_w=0.0)
    r = solve(p)
    assert violations(p, r) == []
    np.testing.assert_allclose(r.ev_w, [0, 0, 0, 11000], atol=1e-6)


def test_discharges_down_to_the_reserve_and_not_further():
    p = make_problem(12, import_price_per_kwh=0.30, export_price_per_kwh=0.20)
    r = solve(p)
    assert violations(p, r) == []
    assert 20.0 <= r.soc_pct.min() < 20.05
    assert r.ev_w.min() < 0


def test_a_car_below_the_reserve_is_never_discharged():
    p = make_problem(12, soc_pct=15.0, import_price_per_kwh=0.30, export_price_per_kwh=0.20)
    r = solve(p)
    assert violations(p, r) == []
    assert np.all(r.ev_w >= 0)
    assert r.soc_pct.min() == pytest.approx(15.0)


def test_unreachable_target_is_approached_and_reported():
    p = make_problem(4, soc_pct=20.0, target_index=[4], target_soc_pct=[80.0])
    r = solve(p)
    assert violations(p, r) == []
    np.testing.assert_allclose(r.ev_w, 11000, atol=1e-6)
    assert r.target_shortfall_pct == pytest.approx(80 - 20 - 4 * ONE_MAX_INTERVAL_PCT, abs=1e-6)
    assert not r.feasible


def test_site_import_limit_caps_charging():
    p = make_problem(4, soc_pct=20.0, load_w=np.full(4, 10000.0), max_import_w=17250.0,
                     target_index=[4], target_soc_pct=[80.0])
    r = solve(p)
    assert violations(p, r) == []
    assert np.all(r.ev_w <= 7250 + 1e-6) and np.all(r.ev_w >= 7250 - 25)
    assert np.all(r.grid_w <= 17250 + 1e-6)


def test_aggregator_fixed_power_and_bounds_are_followed():
    fixed = [math.nan, -6000.0, math.nan, math.nan]
    p = make_problem(4, ev_fixed_w=fixed, ev_min_w=[math.nan, math.nan, 8000.0, math.nan])
    r = solve(p)
    assert violations(p, r) == []
    assert r.ev_w[1] == pytest.approx(-6000.0, abs=25.0)
    assert r.ev_w[2] >= 8000.0
    assert r.bound_violation_w < 25.0


def test_current_dependent_efficiency_prefers_fewer_faster_intervals():
    curve = ([4140.0, 7000.0, 11000.0], [0.75, 0.87, 0.92])
    p = make_problem(4, charge_efficiency_curve=curve, max_discharge_w=0.0, min_discharge_w=0.0,
                     target_index=[4], target_soc_pct=[50 + ONE_MAX_INTERVAL_PCT])
    r = solve(p)
    assert violations(p, r) == []
    assert np.sum(r.ev_w) * 0.25 == pytest.approx(11000 * 0.25, rel=0.005)


def test_terminal_value_and_breakdown_add_up():
    p = make_problem(6, import_price_per_kwh=[0.1, 0.2, 0.3, 0.4, 0.1, 0.2], export_price_per_kwh=0.05,
                     pv_w=[0, 2000, 5000, 2000, 0, 0], load_w=500.0, degradation_per_kwh=0.02,
                     terminal_value_per_kwh=0.15)
    r = solve(p)
    b = r.breakdown
    assert r.cost == pytest.approx(b["import"] - b["export_revenue"] + b["degradation"] - b["terminal_value"])
    assert b["terminal_value"] == pytest.approx(0.15 * r.soc_pct[-1] / 100 * 60000 / 1000)
    # doing nothing is a valid plan, so the optimum costs no more than it
    idle = sum(np.maximum(np.array(p.load_w - p.pv_w), 0) * p.import_price_per_kwh * 0.25 / 1000) \
        - sum(np.maximum(np.array(p.pv_w - p.load_w), 0) * 0.05 * 0.25 / 1000) - 0.15 * 30
    assert r.cost <= idle + 1e-9


def test_result_json_and_domain_plan():
    from datetime import datetime, timezone
    start = datetime(2024, 6, 1, tzinfo=timezone.utc)
    p = make_problem(3, start=start)
    r = solve(p)
    out = r.to_json()
    assert len(out["soc_pct"]) == len(out["ev_w"]) + 1 == 4
    assert out["start"] == "2024-06-01T00:00:00+00:00"
    plan = r.to_plan()
    assert plan.start == start and plan.interval_s == 900 and len(plan.ev_w) == 3
