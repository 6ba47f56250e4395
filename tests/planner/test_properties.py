"""Property tests: whatever the problem, every plan respects every hard constraint."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hems.planner import flexibility, solve

from .helpers import make_problem, violations

finite = dict(allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 20))
    interval_s = draw(st.sampled_from([300, 900, 1800, 3600]))
    arr = lambda lo, hi: np.array(draw(st.lists(st.floats(lo, hi, **finite), min_size=n, max_size=n)))  # noqa: E731
    export = arr(-0.1, 0.4)
    max_c = draw(st.one_of(st.just(0.0), st.floats(1.0, 22000, **finite)))
    min_c = draw(st.floats(0, 1, **finite)) * max_c
    max_d = draw(st.sampled_from([0.0, 3000.0, 11000.0]))
    min_d = draw(st.floats(0, 1, **finite)) * max_d
    n_targets = draw(st.integers(0, 3))
    curve = None
    if draw(st.booleans()) and max_c > 0:
        curve = ([0.0, max_c / 2, max_c], sorted(draw(st.lists(st.floats(0.6, 0.95), min_size=3, max_size=3))))
    bounds = {}
    if draw(st.booleans()):
        lo = arr(-12000, 12000)
        lo[np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))] = math.nan
        bounds["ev_min_w"] = lo
    if draw(st.booleans()):
        fixed = arr(-12000, 12000)
        fixed[np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))] = math.nan
        bounds["ev_fixed_w"] = fixed
    return make_problem(
        n, interval_s=interval_s, import_price_per_kwh=export + arr(0, 0.3), export_price_per_kwh=export,
        pv_w=arr(0, 8000), load_w=arr(0, 9000),
        plugged=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        capacity_wh=draw(st.floats(5000, 100000, **finite)), soc_pct=draw(st.floats(0, 100, **finite)),
        min_charge_w=min_c, max_charge_w=max_c, min_discharge_w=min_d, max_discharge_w=max_d,
        charge_efficiency=draw(st.floats(0.7, 1.0, **finite)),
        discharge_efficiency=draw(st.floats(0.7, 1.0, **finite)),
        reserve_pct=draw(st.floats(0, 60, **finite)), max_soc_pct=draw(st.floats(40, 100, **finite)),
        target_index=draw(st.lists(st.integers(0, n + 2), min_size=n_targets, max_size=n_targets)),
        target_soc_pct=draw(st.lists(st.floats(0, 100, **finite), min_size=n_targets, max_size=n_targets)),
        degradation_per_kwh=draw(st.floats(0, 0.1, **finite)),
        terminal_value_per_kwh=draw(st.floats(0, 0.4, **finite)),
        max_import_w=draw(st.sampled_from([math.inf, 17250.0, 6000.0])),
        max_export_w=draw(st.sampled_from([math.inf, 17250.0, 3000.0, 0.0])),
        charge_efficiency_curve=curve, **bounds)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_respects_every_constraint(problem):
    result = solve(problem)
    assert violations(problem, result) == []
    assert result.target_shortfall_pct >= 0.0
    if result.bound_violation_w == 0.0:
        assert result.feasible == (result.target_shortfall_pct == 0.0)
    assert np.isfinite(result.cost)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_envelope_contains_the_plan_and_its_corridor(problem):
    result = solve(problem)
    env = flexibility(problem, result)
    n = problem.n
    assert env.up_w.shape == env.down_w.shape == (n,)
    assert np.all(env.up_w >= 0) and np.all(env.down_w >= 0)
    assert np.all(env.ev_max_w >= result.ev_w - 1e-9) and np.all(env.ev_min_w <= result.ev_w + 1e-9)
    assert np.all(env.ev_max_w[~problem.plugged] == 0) and np.all(env.ev_min_w[~problem.plugged] == 0)
    assert np.all(env.soc_max_pct >= result.soc_pct - 1e-6)
    assert np.all(env.soc_min_pct <= env.soc_max_pct + 1e-6)
    if result.feasible:
        assert np.all(result.soc_pct >= env.soc_min_pct - 1e-6)
