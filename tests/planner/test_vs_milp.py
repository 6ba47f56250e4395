"""The planner against the exact optimum (a MILP solved by HiGHS) on random small problems.

The MILP is a lower bound: a plan cheaper than it would have broken a constraint. The planner
must also come within 1 % of the optimum's savings over doing nothing, or half a cent on
problems so small that 1 % is less (hems/planner/README.md gives the spread over 300 problems).
"""
from __future__ import annotations

import numpy as np
import pytest

from hems.planner import solve

from .helpers import make_problem, objective, violations

milp = pytest.importorskip("milp")   # bench/milp.py, needs scipy (a test extra)


def random_problem(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 25))
    hourly = np.repeat(rng.normal(0.08, 0.06, n // 4 + 1), 4)[:n]
    pv = np.clip(4000 * np.sin(np.linspace(0, np.pi, n)) + rng.normal(0, 500, n), 0, None) * rng.integers(0, 2)
    plugged = rng.random(n) < 0.85
    soc = float(rng.uniform(10, 90))
    k = int(rng.integers(1, n + 1))
    target = float(min(100, soc + rng.uniform(-10, 30)))
    return make_problem(
        n, import_price_per_kwh=hourly + 0.15, export_price_per_kwh=hourly, pv_w=pv,
        load_w=rng.uniform(200, 3000, n), plugged=plugged, soc_pct=soc,
        capacity_wh=float(rng.choice([40000, 60000, 77000])),
        degradation_per_kwh=float(rng.choice([0.0, 0.02, 0.05])),
        terminal_value_per_kwh=float(rng.choice([0.0, 0.1])),
        reserve_pct=float(rng.uniform(0, 40)), target_index=[k], target_soc_pct=[target],
        max_import_w=float(rng.choice([np.inf, 14000.0])))


@pytest.mark.parametrize("seed", range(24))
def test_planner_matches_the_milp(seed):
    p = random_problem(seed)
    r = solve(p)
    assert violations(p, r) == []
    m = milp.solve_milp(p)
    dp_obj = objective(p, r.ev_w, r.soc_pct)
    milp_obj = objective(p, m.ev_w, m.soc_pct)
    idle_obj = objective(p, np.zeros(p.n), np.full(p.n + 1, p.soc_pct))
    assert dp_obj >= milp_obj - 1e-6 * (1 + abs(milp_obj))          # never better than exact
    savings = idle_obj - milp_obj
    assert dp_obj - milp_obj <= max(0.01 * savings, 0.005), (dp_obj, milp_obj, idle_obj)
