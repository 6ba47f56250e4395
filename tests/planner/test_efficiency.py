"""Current-dependent charging efficiency from the real EV spec table."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hems.planner import ProblemError, solve
from hems.planner.efficiency import curve_from_current_steps, curve_from_spec

from .helpers import make_problem, violations

SPECS = json.loads((Path(__file__).resolve().parents[2] / "hems" / "data"
                    / "ev_specs_v2g_enabled2024.json").read_text())


def test_curve_from_the_real_table():
    power_w, eff = curve_from_spec(SPECS["Tesla Model 3"], phases=1)
    np.testing.assert_allclose(power_w, [1380, 1840, 2300, 2760, 3220, 3680])
    np.testing.assert_allclose(eff, [0.75, 0.78, 0.84, 0.84, 0.84, 0.87])
    power_w, eff = curve_from_spec(SPECS["Tesla Model 3"], phases=3)
    assert power_w[0] == pytest.approx(4140) and power_w[-1] == pytest.approx(11040)


def test_bad_tables_are_refused():
    with pytest.raises(ProblemError):
        curve_from_current_steps([6, 8], [0, 0])
    with pytest.raises(ProblemError):
        curve_from_current_steps([6, 8], [80])
    with pytest.raises(ProblemError):
        curve_from_spec({"ch_current": [6]})


def test_one_phase_car_charges_fast_rather_than_slow():
    # 1-phase Peugeot 208: 66 % at 6 A (1380 W) up to 87 % at 32 A (7360 W)
    curve = curve_from_spec(SPECS["Peugeot 208"], phases=1)
    need_pct = 7360 * 0.87 * 0.25 / 50000 * 100          # one interval at full power
    p = make_problem(8, capacity_wh=50000.0, min_charge_w=1380.0, max_charge_w=7360.0,
                     max_discharge_w=0.0, min_discharge_w=0.0, charge_efficiency_curve=curve,
                     target_index=[8], target_soc_pct=[50 + need_pct])
    r = solve(p)
    assert violations(p, r) == []
    assert r.target_shortfall_pct == 0.0
    # at a flat price the cheapest way is the efficient one: about one interval at full power
    # (with constant efficiency any split would cost the same)
    assert np.sum(r.ev_w) * 0.25 == pytest.approx(7360 * 0.25, rel=0.01)
