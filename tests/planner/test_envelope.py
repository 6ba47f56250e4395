"""The flexibility envelope: its edges keep the targets reachable, one step past them does not."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hems.planner import flexibility, solve

from .helpers import make_problem


def tight_problem():
    # 50 % -> 80 % of 60 kWh within 8 intervals of 15 min: 18 000 Wh of at most 8 x 2530 Wh.
    return make_problem(12, target_index=[8], target_soc_pct=[80.0],
                        import_price_per_kwh=[0.3, 0.1, 0.3, 0.1, 0.3, 0.1, 0.3, 0.1, 0.2, 0.2, 0.2, 0.2])


def resolve_with(problem, result, t, power_w):
    fixed = np.full(problem.n, math.nan)
    fixed[:t] = result.ev_w[:t]
    fixed[t] = power_w
    return solve(problem.replace(ev_fixed_w=fixed))


def test_first_interval_must_charge_at_least_the_minimum():
    p = tight_problem()
    r = solve(p)
    env = flexibility(p, r)
    # after interval 0 at most 7 x 2530 Wh can still be added: 290 Wh must go in now,
    # and the charger cannot go below 4140 W
    assert env.ev_min_w[0] == pytest.approx(4140.0)
    assert env.ev_max_w[0] == pytest.approx(11000.0)
    assert env.soc_min_pct[8] == pytest.approx(80.0)
    assert env.soc_min_pct[1] == pytest.approx((48000 - 7 * 2530) / 600, abs=1e-6)


@pytest.mark.parametrize("t", [0, 2, 5])
def test_envelope_edges_keep_the_target_and_beyond_them_it_is_missed(t):
    p = tight_problem()
    r = solve(p)
    env = flexibility(p, r)
    for edge in (env.ev_min_w[t], env.ev_max_w[t]):
        moved = resolve_with(p, r, t, edge)
        assert moved.feasible and moved.target_shortfall_pct <= 1e-6
        assert moved.ev_w[t] == pytest.approx(edge, abs=25.0)
    if env.ev_min_w[t] > 0:            # limited by the target, not by the hardware
        below = resolve_with(p, r, t, 0.0)
        assert not below.feasible       # either the target or the fixed power gives way
        assert below.bound_violation_w > 1000 or below.target_shortfall_pct > 0.01


def test_unplugged_intervals_offer_nothing_and_reserve_limits_discharge():
    p = make_problem(4, soc_pct=21.0, plugged=[True, False, True, True])
    r = solve(p)
    env = flexibility(p, r)
    assert env.up_w[1] == env.down_w[1] == 0.0
    # 1 % of 60 kWh above the reserve: 600 Wh stored = 2208 W for 15 min, below the 4140 W minimum
    assert env.ev_min_w[0] == 0.0
    assert env.soc_min_pct.min() >= 20.0 - 1e-9
