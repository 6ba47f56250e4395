"""Problem builders and constraint checks shared by the planner tests."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hems.planner import Problem, Result
from hems.planner.actions import stored_wh

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))


def make_problem(n: int = 8, **changes) -> Problem:
    """A 60 kWh car, 11 kW both ways with a 4140 W minimum, flat prices, no house."""
    values = dict(
        interval_s=900, import_price_per_kwh=np.full(n, 0.25), export_price_per_kwh=np.full(n, 0.05),
        pv_w=np.zeros(n), load_w=np.zeros(n), plugged=np.ones(n, dtype=bool), capacity_wh=60000.0,
        soc_pct=50.0, min_charge_w=4140.0, max_charge_w=11000.0, min_discharge_w=4140.0,
        max_discharge_w=11000.0, charge_efficiency=0.92, discharge_efficiency=0.92,
        reserve_pct=20.0, max_soc_pct=100.0)
    values.update(changes)
    return Problem(**values)


def violations(problem: Problem, result: Result, tol_w: float = 1e-6, tol_pct: float = 1e-6) -> list[str]:
    """Every hard constraint the result breaks (empty when the plan is valid)."""
    out = []
    ev, soc = result.ev_w, result.soc_pct
    n = problem.n
    if len(ev) != n or len(soc) != n + 1 or len(result.grid_w) != n:
        return [f"lengths ev {len(ev)} soc {len(soc)} grid {len(result.grid_w)} for n {n}"]
    for t, p in enumerate(ev):
        if p == 0:
            continue
        if not problem.plugged[t]:
            out.append(f"t={t}: {p} W while unplugged")
        elif p > 0 and not (problem.min_charge_w - tol_w <= p <= problem.max_charge_w + tol_w):
            out.append(f"t={t}: charge {p} W outside [{problem.min_charge_w}, {problem.max_charge_w}]")
        elif p < 0 and not (problem.min_discharge_w - tol_w <= -p <= problem.max_discharge_w + tol_w):
            out.append(f"t={t}: discharge {p} W outside [{problem.min_discharge_w}, {problem.max_discharge_w}]")
    if abs(soc[0] - problem.soc_pct) > tol_pct:
        out.append(f"soc starts at {soc[0]}, not {problem.soc_pct}")
    expected = soc[:-1] + stored_wh(problem, ev) / problem.capacity_wh * 100.0
    bad = np.flatnonzero(np.abs(expected - soc[1:]) > 1e-6)
    if bad.size:
        out.append(f"soc does not follow the powers at t={bad[0]}")
    floor = problem.floor_wh / problem.capacity_wh * 100.0
    ceiling = problem.ceiling_wh / problem.capacity_wh * 100.0
    if np.any(soc < floor - tol_pct) or np.any(soc > ceiling + tol_pct):
        out.append(f"soc leaves [{floor}, {ceiling}]: min {soc.min()}, max {soc.max()}")
    base = problem.load_w - problem.pv_w
    if np.any(np.abs(result.grid_w - (base + ev)) > 1e-6):
        out.append("grid_w != load - pv + ev")
    over_import = (base + ev > problem.max_import_w + tol_w) & (ev > 0)
    over_export = (-(base + ev) > problem.max_export_w + tol_w) & (ev < 0)
    if over_import.any() or over_export.any():
        out.append("the EV pushes the grid past a site limit")
    for k, target in zip(problem.target_index, problem.target_soc_pct):
        if k <= n and soc[k] < target - result.target_shortfall_pct - tol_pct:
            out.append(f"target {target} at {k}: soc {soc[k]} below the reported shortfall")
    return out


def objective(problem: Problem, ev_w: np.ndarray, soc_pct: np.ndarray) -> float:
    """Cost plus the planner's penalties (target shortfall, aggregator bounds): what it minimises."""
    from hems.planner.actions import BOUND_PENALTY_PER_KWH, TARGET_PENALTY_PER_KWH, bounds_w, interval_cost
    terms = interval_cost(problem, ev_w)
    energy = np.asarray(soc_pct) / 100.0 * problem.capacity_wh
    total = float(np.sum(terms["import"] - terms["export_revenue"] + terms["degradation"]))
    total -= problem.terminal_value_per_kwh * energy[-1] / 1000.0
    floors: dict[int, float] = {}
    for k, soc in zip(problem.target_index, problem.target_soc_pct):
        if k <= problem.n:
            floors[int(k)] = max(floors.get(int(k), 0.0), soc / 100.0 * problem.capacity_wh)
    for k, e in floors.items():
        total += TARGET_PENALTY_PER_KWH * max(e - energy[k], 0.0) / 1000.0
    lo, hi = bounds_w(problem)
    outside = (np.maximum(lo - ev_w, 0) + np.maximum(ev_w - hi, 0)) * problem.plugged
    total += BOUND_PENALTY_PER_KWH * float(np.sum(outside)) * problem.dt_h / 1000.0
    return total
