"""Reference optimum for hems planning problems: a MILP solved by HiGHS (scipy.optimize.milp).

Benchmark- and test-only (scipy is not a dependency of hems). Continuous power in
0 / [min, max] per direction via binaries, constant efficiencies, the same soft-target and
aggregator-bound penalties as the planner, the same site-limit rule (the EV never worsens a
limit the house alone breaks). Requires import price >= export price in every interval.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from hems.planner.actions import BOUND_PENALTY_PER_KWH, TARGET_PENALTY_PER_KWH, bounds_w
from hems.planner.problem import Problem


@dataclass(frozen=True)
class MilpResult:
    ev_w: np.ndarray
    soc_pct: np.ndarray
    cost: float              # without penalties, same definition as hems.planner.Result.cost
    target_shortfall_pct: float
    solve_ms: float
    status: int


class _Rows:
    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        row = len(self.lo)
        for col, val in coefs.items():
            self.r.append(row)
            self.c.append(col)
            self.v.append(val)
        self.lo.append(lo)
        self.hi.append(hi)

    def constraint(self, n_vars: int) -> LinearConstraint:
        a = coo_matrix((self.v, (self.r, self.c)), shape=(len(self.lo), n_vars)).tocsr()
        return LinearConstraint(a, np.array(self.lo), np.array(self.hi))


PC, PD, UC, UD, GI, GE, BL, AB = range(8)   # columns per interval; then e_0..e_n, then shortfalls


class _Model:
    def __init__(self, problem: Problem, n_targets: int) -> None:
        n = problem.n
        self.n, self.n_vars = n, 9 * n + 1 + n_targets
        self.c = np.zeros(self.n_vars)
        self.lb, self.ub = np.zeros(self.n_vars), np.full(self.n_vars, np.inf)
        self.integrality = np.zeros(self.n_vars)
        self.rows = _Rows()

    def col(self, t: int, j: int) -> int:
        return 8 * t + j

    def e_col(self, t: int) -> int:
        return 8 * self.n + t


def _interval(m: _Model, problem: Problem, t: int, base: float, lo_b: float, hi_b: float) -> None:
    """Variables, constraints and costs of interval t."""
    col, rows, dt, kwh = m.col, m.rows, problem.dt_h, problem.dt_h / 1000.0
    on = bool(problem.plugged[t])
    m.integrality[[col(t, UC), col(t, UD)]] = 1
    m.ub[[col(t, UC), col(t, UD)]] = 1.0 if on else 0.0
    m.ub[col(t, PC)], m.ub[col(t, PD)] = problem.max_charge_w, problem.max_discharge_w
    rows.add({col(t, PC): 1, col(t, UC): -problem.max_charge_w}, -np.inf, 0)
    rows.add({col(t, PC): 1, col(t, UC): -problem.min_charge_w}, 0, np.inf)
    rows.add({col(t, PD): 1, col(t, UD): -problem.max_discharge_w}, -np.inf, 0)
    rows.add({col(t, PD): 1, col(t, UD): -problem.min_discharge_w}, 0, np.inf)
    rows.add({col(t, UC): 1, col(t, UD): 1}, -np.inf, 1)
    m.ub[col(t, GI)] = max(problem.max_import_w, base)
    m.ub[col(t, GE)] = max(problem.max_export_w, -base)
    rows.add({col(t, GI): 1, col(t, GE): -1, col(t, PC): -1, col(t, PD): 1}, base, base)
    rows.add({m.e_col(t + 1): 1, m.e_col(t): -1, col(t, PC): -problem.charge_efficiency * dt,
              col(t, PD): dt / problem.discharge_efficiency}, 0, 0)
    if on:   # below/above: how far the EV power is outside the aggregator bounds
        if np.isfinite(lo_b):
            rows.add({col(t, PC): 1, col(t, PD): -1, col(t, BL): 1}, lo_b, np.inf)
        if np.isfinite(hi_b):
            rows.add({col(t, PC): 1, col(t, PD): -1, col(t, AB): -1}, -np.inf, hi_b)
    m.ub[[col(t, BL), col(t, AB)]] = np.inf if on else 0.0
    m.c[col(t, GI)] = problem.import_price_per_kwh[t] * kwh
    m.c[col(t, GE)] = -problem.export_price_per_kwh[t] * kwh
    m.c[col(t, PC)] = m.c[col(t, PD)] = problem.degradation_per_kwh * kwh
    m.c[col(t, BL)] = m.c[col(t, AB)] = BOUND_PENALTY_PER_KWH * kwh


def solve_milp(problem: Problem, time_limit_s: float = 60.0, rel_gap: float = 1e-7) -> MilpResult:
    if problem.charge_efficiency_curve is not None or problem.discharge_efficiency_curve is not None:
        raise ValueError("the MILP reference supports constant efficiencies only")
    if np.any(problem.export_price_per_kwh > problem.import_price_per_kwh + 1e-12):
        raise ValueError("the MILP reference needs import price >= export price")
    t0 = time.perf_counter()
    n, kwh = problem.n, problem.dt_h / 1000.0
    targets = [(int(k), float(s)) for k, s in zip(problem.target_index, problem.target_soc_pct) if k <= n]
    m = _Model(problem, len(targets))
    base = problem.load_w - problem.pv_w
    lo_b, hi_b = bounds_w(problem)
    for t in range(n):
        _interval(m, problem, t, float(base[t]), float(lo_b[t]), float(hi_b[t]))
    e0, en = m.e_col(0), m.e_col(n)
    m.lb[e0:en + 1], m.ub[e0:en + 1] = problem.floor_wh, problem.ceiling_wh
    m.lb[e0] = m.ub[e0] = problem.soc_wh
    m.c[en] = -problem.terminal_value_per_kwh / 1000.0
    for i, (k, soc) in enumerate(targets):
        m.c[9 * n + 1 + i] = TARGET_PENALTY_PER_KWH / 1000.0
        m.rows.add({m.e_col(k): 1, 9 * n + 1 + i: 1}, soc / 100.0 * problem.capacity_wh, np.inf)
    res = milp(m.c, integrality=m.integrality, bounds=Bounds(m.lb, m.ub),
               constraints=m.rows.constraint(m.n_vars),
               options={"time_limit": time_limit_s, "mip_rel_gap": rel_gap})
    solve_ms = (time.perf_counter() - t0) * 1000.0
    if res.x is None:
        raise RuntimeError(f"MILP failed: {res.message}")
    x = res.x
    ev_w = x[[m.col(t, PC) for t in range(n)]] - x[[m.col(t, PD) for t in range(n)]]
    energy = x[e0:en + 1]
    grid = base + ev_w
    cost = float(np.sum(problem.import_price_per_kwh * np.maximum(grid, 0) * kwh
                        - problem.export_price_per_kwh * np.maximum(-grid, 0) * kwh
                        + problem.degradation_per_kwh * np.abs(ev_w) * kwh)
                 - problem.terminal_value_per_kwh * energy[-1] / 1000.0)
    soc = energy / problem.capacity_wh * 100.0
    shortfall = max([0.0] + [s - soc[k] for k, s in targets])
    return MilpResult(ev_w, soc, cost, shortfall if shortfall > 1e-6 else 0.0, solve_ms, res.status)
