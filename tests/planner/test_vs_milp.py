"""The planner against the exact optimum (a MILP solved by HiGHS) on a fixed set of small problems.

The MILP is a lower bound: a plan cheaper than it would have broken a constraint. The planner
must come within 0.1 % of the savings the optimum makes over charging at full power from the
start (bench/solve_time.py's reference), or 0.01 cent where those savings are tiny, with the
car's 6 A minimum and without it, and never break a constraint.
"""
from __future__ import annotations

import numpy as np
import pytest

from hems.planner import solve

from .helpers import make_problem, objective, violations

milp = pytest.importorskip("milp")   # bench/milp.py, needs scipy (a test extra)
bench = pytest.importorskip("solve_time")


def random_problem(seed: int, min_w: float):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 41))
    hourly = np.repeat(rng.normal(0.08, 0.06, n // 4 + 1), 4)[:n]
    pv = np.clip(6000 * np.sin(np.linspace(0, np.pi, n)) + rng.normal(0, 500, n), 0, None) * rng.integers(0, 2)
    plugged = rng.random(n) < 0.85
    soc = float(rng.uniform(10, 90))
    k = int(rng.integers(1, n + 1))
    target = float(min(100, soc + rng.uniform(-10, 30)))
    discharge = float(rng.choice([0.0, 11000.0]))
    return make_problem(
        n, import_price_per_kwh=hourly + 0.15, export_price_per_kwh=hourly, pv_w=pv,
        load_w=rng.uniform(200, 3000, n), plugged=plugged, soc_pct=soc,
        capacity_wh=float(rng.choice([40000, 60000, 77000])), min_charge_w=min_w,
        min_discharge_w=min(min_w, discharge), max_discharge_w=discharge,
        degradation_per_kwh=float(rng.choice([0.0, 0.02, 0.05])),
        terminal_value_per_kwh=float(rng.choice([0.0, 0.1])),
        reserve_pct=float(rng.uniform(0, 40)), target_index=[k], target_soc_pct=[target],
        max_import_w=float(rng.choice([np.inf, 14000.0])))


@pytest.mark.parametrize("min_w", [4140.0, 0.0])
@pytest.mark.parametrize("seed", range(30))
def test_planner_is_within_a_tenth_of_a_percent_of_the_milp(seed, min_w):
    p = random_problem(seed, min_w)
    r = solve(p)
    assert violations(p, r) == []
    m = milp.solve_milp(p)
    dp_obj = objective(p, r.ev_w, r.soc_pct)
    milp_obj = objective(p, m.ev_w, m.soc_pct)
    ref_ev, ref_energy = bench.charge_first(p)
    ref_obj = objective(p, ref_ev, ref_energy / p.capacity_wh * 100.0)
    assert dp_obj >= milp_obj - 1e-6 * (1 + abs(milp_obj))          # never better than exact
    savings = max(ref_obj - milp_obj, 0.0)
    assert dp_obj - milp_obj <= max(0.001 * savings, 1e-4), (dp_obj, milp_obj, ref_obj)
    if min_w == 0.0:     # convex: solved exactly, without the grid
        assert dp_obj - milp_obj <= 1e-6 * (1 + abs(milp_obj)), (dp_obj, milp_obj)


def test_pv_surplus_is_followed_exactly_with_a_zero_minimum():
    """Without a minimum the problem is convex: the plan is exact, not within a grid step."""
    p = make_problem(4, pv_w=np.full(4, 6000.0), load_w=np.array([1000.0, 1500.0, 1234.5, 1000.0]),
                     import_price_per_kwh=0.30, export_price_per_kwh=0.0, terminal_value_per_kwh=0.2,
                     min_charge_w=0.0, min_discharge_w=0.0, max_discharge_w=0.0)
    r = solve(p)
    assert violations(p, r) == []
    np.testing.assert_allclose(r.grid_w, 0.0, atol=1e-6)


def test_a_target_at_the_max_soc_is_met_exactly_by_the_cheapest_intervals():
    """The coarse grid cannot land on 100 %; the polish charges the last Wh where it is cheapest."""
    prices = np.array([0.30, 0.10, 0.30, 0.12, 0.30, 0.30])
    p = make_problem(6, import_price_per_kwh=prices, soc_pct=93.0, target_index=[6], target_soc_pct=[100.0],
                     max_discharge_w=0.0, min_discharge_w=0.0)
    r = solve(p)
    assert violations(p, r) == []
    assert r.soc_pct[-1] == pytest.approx(100.0, abs=1e-9)
    need_wh = 0.07 * 60000
    assert r.ev_w[1] == pytest.approx(11000.0)                       # cheapest interval first, full
    assert r.ev_w[3] == pytest.approx((need_wh - 11000 * 0.92 * 0.25) / (0.92 * 0.25))
    assert np.all(r.ev_w[[0, 2, 4, 5]] == 0.0)
