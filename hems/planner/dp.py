"""Exact-constraint dynamic programming over the battery's state of charge.

Backward pass: V[t](s) = min over moves k of cost[t, k] + V[t+1](s + k), vectorised over all
states and moves at once (a sliding-window view of V[t+1]). Forward pass from the initial state
picks the best move each interval. Targets and aggregator bounds are soft with large penalties,
so an unreachable target is approached as closely as possible instead of failing.
"""
from __future__ import annotations

import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hems.planner.actions import (TARGET_PENALTY_PER_KWH, Grid, bounds_w, build_grid,
                                  cost_matrix, interval_cost)
from hems.planner.problem import Problem
from hems.planner.result import Result

_TIE_PER_W = 1e-9   # prefer the smaller |power| between equally good moves


def solve(problem: Problem) -> Result:
    """The cheapest schedule that respects every hard constraint of `problem`."""
    t0 = time.perf_counter()
    grid = build_grid(problem)
    cost = cost_matrix(problem, grid)
    penalty, warnings = _target_penalties(problem, grid)
    values = _backward(problem, grid, cost, penalty)
    moves = _forward(problem, grid, cost, values)
    solve_ms = (time.perf_counter() - t0) * 1000.0
    return _result(problem, grid, moves, solve_ms, warnings)


def _target_penalties(problem: Problem, grid: Grid) -> tuple[dict[int, np.ndarray], tuple[str, ...]]:
    """Per boundary index: the penalty (currency) each state pays for falling short of a target."""
    floors: dict[int, float] = {}
    warnings = []
    for k, soc in zip(problem.target_index, problem.target_soc_pct):
        if k > problem.n:
            warnings.append(f"target {soc:g} % at index {k} is beyond the horizon ({problem.n}) and ignored")
            continue
        floors[int(k)] = max(floors.get(int(k), 0.0), soc / 100.0 * problem.capacity_wh)
    penalty = {k: TARGET_PENALTY_PER_KWH * np.maximum(e - grid.energy_wh, 0.0) / 1000.0
               for k, e in floors.items()}
    return penalty, tuple(warnings)


def _backward(problem: Problem, grid: Grid, cost: np.ndarray, penalty: dict[int, np.ndarray]) -> np.ndarray:
    """Value of each state at each boundary, stored with +inf margins for the window view."""
    n, n_states, n_moves = problem.n, len(grid.energy_wh), len(grid.power_w)
    kd = grid.kd
    padded = np.full((n + 1, n_states + n_moves - 1), np.inf)
    inner = padded[:, kd:kd + n_states]
    inner[n] = -problem.terminal_value_per_kwh * grid.energy_wh / 1000.0
    if n in penalty:
        inner[n] += penalty[n]
    windows = sliding_window_view(padded, n_moves, axis=1)   # (n+1, S, K), no copy
    scratch = np.empty((n_states, n_moves))
    plugged = problem.plugged
    for t in range(n - 1, -1, -1):
        if plugged[t] and n_moves > 1:
            np.add(windows[t + 1], cost[t], out=scratch)
            np.min(scratch, axis=1, out=inner[t])
        else:
            np.add(inner[t + 1], cost[t, kd], out=inner[t])
        if t in penalty:
            inner[t] += penalty[t]
    return padded


def _forward(problem: Problem, grid: Grid, cost: np.ndarray, padded: np.ndarray) -> np.ndarray:
    n_moves = len(grid.power_w)
    tie = _TIE_PER_W * np.abs(grid.power_w)
    s = grid.start_index
    moves = np.zeros(problem.n, dtype=int)
    for t in range(problem.n):
        if problem.plugged[t] and n_moves > 1:
            q = cost[t] + padded[t + 1, s:s + n_moves] + tie
            k = int(np.argmin(q)) - grid.kd
        else:
            k = 0
        moves[t] = k
        s += k
    return moves


def _result(problem: Problem, grid: Grid, moves: np.ndarray, solve_ms: float,
            warnings: tuple[str, ...]) -> Result:
    ev_w = grid.power_w[moves + grid.kd]
    states = grid.start_index + np.concatenate([[0], np.cumsum(moves)])
    energy = grid.energy_wh[states]
    soc = energy / problem.capacity_wh * 100.0
    terms = {k: float(v.sum()) for k, v in interval_cost(problem, ev_w).items()}
    terms["terminal_value"] = problem.terminal_value_per_kwh * float(energy[-1]) / 1000.0
    total = terms["import"] - terms["export_revenue"] + terms["degradation"] - terms["terminal_value"]
    shortfall = 0.0
    for k, target in zip(problem.target_index, problem.target_soc_pct):
        if k <= problem.n:
            shortfall = max(shortfall, float(target - soc[k]))
    lo, hi = bounds_w(problem)
    active = problem.plugged
    violation = np.maximum(lo - ev_w, 0.0) + np.maximum(ev_w - hi, 0.0)
    violation_w = float(np.max(violation[active], initial=0.0))
    shortfall = max(0.0, shortfall) if shortfall > 1e-9 else 0.0
    return Result(ev_w=ev_w, soc_pct=soc, grid_w=problem.load_w - problem.pv_w + ev_w,
                  cost=total, breakdown=terms, solve_ms=solve_ms, target_shortfall_pct=shortfall,
                  feasible=shortfall == 0.0 and violation_w <= 1e-6, interval_s=problem.interval_s,
                  start=problem.start, soc_step_wh=grid.step_wh, bound_violation_w=violation_w,
                  warnings=warnings)
