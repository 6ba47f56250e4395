"""Exact-constraint dynamic programming over the battery's stored energy, coarse to fine.

One level: states at boundary t are E0 + (base[t] + i) * h for i in 0..S-1; move j of interval t
goes to state i + j - J0 at t + 1. Backward pass: V[t](i) = min_j cost[t, j] + V[t+1](i + j - J0),
vectorised over all states and moves (a sliding-window view of V[t+1]); forward pass from the
initial state picks the best move. Level 0 covers the whole SoC range at a coarse step, with
the exact minimum powers as extra moves off the grid (values interpolated). Its modes (off /
charging / discharging per interval) then go to the continuous polish and the mode search
(hems.planner.polish, hems.planner.search), which find exact powers. Without a polish
(efficiency curves) finer levels re-solve inside a corridor around the previous path.
Targets and aggregator bounds are soft with large penalties, so an unreachable target is
approached as closely as possible instead of failing.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hems.planner.actions import (BOUND_PENALTY_PER_KWH, TARGET_PENALTY_PER_KWH, power_for, bounds_w, choose_step_wh,
                                  cost_matrix, interval_cost, max_moves, move_power, stored_wh)
from hems.planner.polish import convex_problem, polish, supported
from hems.planner.problem import Problem
from hems.planner.search import improve
from hems.planner.result import Result

_TIE_PER_W = 1e-9          # prefer the smaller |power| between equally good moves
REFINE = ((4, 8), (4, 8))  # finer levels (step divisor, corridor half-width) where no polish follows


def solve(problem: Problem, refine: tuple[tuple[int, int], ...] | None = None) -> Result:
    """The cheapest schedule that respects every hard constraint of `problem`."""
    t0 = time.perf_counter()
    h = choose_step_wh(problem)
    floors, warnings = _floors(problem)
    n, e0 = problem.n, problem.soc_wh
    g_lo = -math.floor((e0 - problem.floor_wh) / h + 1e-9)
    g_hi = math.floor((problem.ceiling_wh - e0) / h + 1e-9)
    if problem.soc_step_wh is None and convex_problem(problem):
        power = polish(problem, floors, np.zeros(n))
        if power is not None:
            energy = e0 + np.concatenate([[0.0], np.cumsum(stored_wh(problem, power))])
            energy = np.clip(energy, problem.floor_wh, problem.ceiling_wh)
            return _result(problem, energy, power, (time.perf_counter() - t0) * 1000.0, warnings, h / 16)
    kc, kd = max_moves(problem, h)
    kc, kd = min(kc, g_hi - g_lo), min(kd, g_hi - g_lo)     # no move can cross more than the range
    exact = supported(problem) and problem.soc_step_wh is None
    path, power = _level(problem, floors, h, np.full(n + 1, g_lo), g_hi - g_lo + 1, kd, kc + kd + 1, exact)
    if refine is None:
        refine = () if supported(problem) else REFINE
    for factor, half in (() if problem.soc_step_wh is not None else refine):
        h /= factor
        base = path * factor - half
        path, power = _level(problem, floors, h, base, 2 * half + 1, 2 * half, 4 * half + 1)
    energy, power = _best(problem, floors, power, *_close_small_gaps(problem, floors, e0 + path * h, power, h))
    if supported(problem) and problem.soc_step_wh is None:
        h /= 16     # the polished powers are continuous: report the resolution of the old fine grid
    solve_ms = (time.perf_counter() - t0) * 1000.0
    return _result(problem, energy, power, solve_ms, warnings, h)


def _best(problem: Problem, floors: dict[int, float], dp_power: np.ndarray, energy: np.ndarray,
          power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The DP's plan or its continuous polish (same modes, exact powers), whichever is cheaper."""
    if not supported(problem):
        return energy, power
    polished = improve(problem, floors, dp_power)
    e_pol = problem.soc_wh + np.concatenate([[0.0], np.cumsum(stored_wh(problem, polished))])
    tol = 1e-6
    if e_pol.min() < problem.floor_wh - tol or e_pol.max() > problem.ceiling_wh + tol:
        return energy, power
    if objective(problem, floors, polished, e_pol) <= objective(problem, floors, power, energy):
        return np.clip(e_pol, problem.floor_wh, problem.ceiling_wh), polished
    return energy, power


def objective(problem: Problem, floors: dict[int, float], ev_w: np.ndarray, energy: np.ndarray) -> float:
    """What the planner minimises: cost plus the target and aggregator-bound penalties."""
    terms = interval_cost(problem, ev_w)
    total = float(np.sum(terms["import"] - terms["export_revenue"] + terms["degradation"]))
    total -= problem.terminal_value_per_kwh * float(energy[-1]) / 1000.0
    for k, e in floors.items():
        total += TARGET_PENALTY_PER_KWH * max(e - float(energy[k]), 0.0) / 1000.0
    lo, hi = bounds_w(problem)
    outside = (np.maximum(lo - ev_w, 0.0) + np.maximum(ev_w - hi, 0.0)) * problem.plugged
    return total + BOUND_PENALTY_PER_KWH * float(np.sum(outside)) * problem.dt_h / 1000.0


def _floors(problem: Problem) -> tuple[dict[int, float], tuple[str, ...]]:
    """Per boundary index the highest target (Wh); targets beyond the horizon are reported."""
    floors: dict[int, float] = {}
    warnings = []
    for k, soc in zip(problem.target_index, problem.target_soc_pct):
        if k > problem.n:
            warnings.append(f"target {soc:g} % at index {k} is beyond the horizon ({problem.n}) and ignored")
            continue
        floors[int(k)] = max(floors.get(int(k), 0.0), soc / 100.0 * problem.capacity_wh)
    return floors, tuple(warnings)


def _level(problem: Problem, floors: dict[int, float], h: float, base: np.ndarray,
           n_states: int, j0: int, n_moves: int, exact_moves: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Solve one level; returns the path (n+1 state numbers in units of h) and the powers (n).
    With exact_moves (a level whose layers share one base), the minimum powers, the PV surplus
    and the site limit are moves too, off the grid, with the values interpolated in between;
    the path then holds fractional state numbers."""
    moves = (base[1:] - base[:-1])[:, None] + (np.arange(n_moves) - j0)[None, :]
    power, valid = move_power(problem, moves * h)
    cost = cost_matrix(problem, power, valid)
    state_cost = _state_cost(problem, floors, base, n_states, h)
    special = exact_moves_of(problem, h) if exact_moves else None
    values = _backward(problem, cost, state_cost, base, j0, n_states, special)
    biased = cost + _TIE_PER_W * np.abs(power)
    if special is not None:
        return _forward_continuous(problem, values, biased, power, special, base, j0, n_states)
    i = int(-base[0])
    picks = [0] * problem.n
    for t in range(problem.n):
        j = (biased[t] + values[t + 1, i:i + n_moves]).argmin()
        picks[t] = j
        i += j - j0
    picks = np.array(picks, dtype=np.int64)
    state = -base[0] + np.concatenate([[0], np.cumsum(picks - j0)])   # index within each layer
    path = base + state
    return path, power[np.arange(problem.n), picks]


def exact_moves_of(problem: Problem, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, cost, power) (n, 2) of the exact minimum powers, charging and discharging: on the
    grid they round up by up to a step, which tilts the choice between "off" and "on at the
    minimum" that the 6 A rule makes hard (tuned on bench/solve_time.py's problems: the PV
    surplus, the max discharge and the site limit as extra moves did not pay for their time)."""
    n = problem.n
    p = np.stack([np.full(n, problem.min_charge_w), np.full(n, -problem.min_discharge_w)], axis=1)
    valid = np.stack([np.full(n, problem.max_charge_w > 0), np.full(n, problem.max_discharge_w > 0)], axis=1)
    valid &= p != 0
    cost = cost_matrix(problem, p, valid)
    return stored_wh(problem, p) / h, cost, p


def _forward_continuous(problem: Problem, values: np.ndarray, biased: np.ndarray, power: np.ndarray,
                        special: tuple[np.ndarray, np.ndarray, np.ndarray], base: np.ndarray, j0: int,
                        n_states: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass from the initial state over fractional states: grid and exact moves, the
    next layer's values interpolated."""
    big = 1e30
    inner = values[:, j0:j0 + n_states].astype(float)
    inner[~np.isfinite(inner)] = big
    grid = np.arange(n_states, dtype=float)
    steps_sp, cost_sp, power_sp = special
    n_grid = biased.shape[1]
    steps = np.concatenate((np.broadcast_to(np.arange(n_grid) - j0, biased.shape), steps_sp), axis=1)
    costs = np.concatenate((biased, cost_sp), axis=1)
    powers = np.concatenate((power, power_sp), axis=1)
    q = float(-base[0])
    picks = [0] * problem.n
    for t in range(problem.n):
        j = int((costs[t] + np.interp(q + steps[t], grid, inner[t + 1], big, big)).argmin())
        picks[t] = j
        q += steps[t, j]
    rows = np.arange(problem.n)
    picks = np.array(picks)
    path = -base[0] + np.concatenate([[0.0], np.cumsum(steps[rows, picks])])
    return base + path, powers[rows, picks]


def _close_small_gaps(problem: Problem, floors: dict[int, float], energy: np.ndarray,
                      power: np.ndarray, step_wh: float) -> tuple[np.ndarray, np.ndarray]:
    """A target missed by less than a few grid steps (typically one at the max SoC, which need
    not lie on the grid) is closed by charging a little harder in the cheapest charging
    intervals before it, continuously, within every power and SoC limit."""
    energy, power = energy.copy(), power.copy()
    _, hi_bound = bounds_w(problem)
    base = problem.load_w - problem.pv_w
    cap_w = np.minimum(np.minimum(problem.max_charge_w, hi_bound),
                       np.where(np.isfinite(problem.max_import_w), problem.max_import_w - base, np.inf))
    for k in sorted(floors):
        gap = floors[k] - energy[k]
        if gap <= 1e-9 or gap > 4 * step_wh:
            continue
        for t in sorted(range(k), key=lambda t: problem.import_price_per_kwh[t]):
            if power[t] <= 0 or cap_w[t] <= power[t]:
                continue
            now_wh, cap_wh = stored_wh(problem, np.array([power[t], cap_w[t]]))
            room_wh = problem.ceiling_wh - energy[t + 1:].max()
            add = min(gap, cap_wh - now_wh, room_wh)
            if add <= 0:
                continue
            power[t] = min(cap_w[t], float(power_for(problem, np.array([now_wh + add]), True,
                                                      problem.max_charge_w)[0]))
            energy[t + 1:] += float(stored_wh(problem, np.array([power[t]]))[0]) - now_wh
            gap = floors[k] - energy[k]
            if gap <= 1e-9:
                break
    return energy, power


def _state_cost(problem: Problem, floors: dict[int, float], base: np.ndarray, n_states: int,
                h: float) -> dict[int, np.ndarray]:
    """Per boundary with a cost on the states (S): +inf outside [floor, ceiling], target
    penalties, minus the terminal value. Boundaries not listed cost nothing."""
    tol = 1e-6
    steps = np.arange(n_states)
    uniform = bool(np.all(base == base[0]))
    rows = [0] if uniform else range(len(base))
    inside: dict[int, np.ndarray] = {}
    for t in rows:
        e = problem.soc_wh + (base[t] + steps) * h
        bad = (e < problem.floor_wh - tol) | (e > problem.ceiling_wh + tol)
        if bad.any():
            inside[t] = np.where(bad, np.inf, 0.0)
    if uniform and 0 in inside:
        inside = {t: inside[0] for t in range(len(base))}
    out = {t: row.copy() for t, row in inside.items()}
    for k, e_min in floors.items():
        e = problem.soc_wh + (base[k] + steps) * h
        out[k] = out.get(k, 0.0) + TARGET_PENALTY_PER_KWH * np.maximum(e_min - e, 0.0) / 1000.0
    if problem.terminal_value_per_kwh:
        n = len(base) - 1
        e = problem.soc_wh + (base[n] + steps) * h
        out[n] = out.get(n, 0.0) - problem.terminal_value_per_kwh * e / 1000.0
    return out


def _backward(problem: Problem, cost: np.ndarray, state_cost: dict[int, np.ndarray], base: np.ndarray,
              j0: int, n_states: int, special: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Values (n+1, S + K - 1) with +inf margins so row t+1 can be read as a window per state.

    Large levels run in float32 (twice the memory bandwidth; the finer levels re-optimise in
    float64), moves on the first axis so the minimum is an element-wise SIMD reduction."""
    n, n_moves = cost.shape
    dtype = np.float32 if n_states * n_moves > 4096 else np.float64
    cost_t = np.ascontiguousarray(cost, dtype=dtype)[:, :, None]          # (n, K, 1)
    state_cost = {t: np.asarray(row, dtype=dtype) for t, row in state_cost.items()}
    padded = np.full((n + 1, n_states + n_moves - 1), np.inf, dtype=dtype)
    inner = padded[:, j0:j0 + n_states]
    inner[n] = state_cost.get(n, 0.0)
    windows = sliding_window_view(padded, n_states, axis=1)   # (n+1, K, S), no copy
    lower, w, sp_cost = _fractional(special, j0, n_moves, dtype) if special is not None else (None, None, None)
    n_sp = 0 if lower is None else len(lower)
    runs = _runs(np.isfinite(cost).any(axis=0))   # moves that are never allowed (between 0
    n_grid = sum(b - a for a, b in runs)           # and a minimum power) are left out
    scratch = np.empty((n_grid + n_sp, n_states), dtype=dtype)
    sp_part = scratch[n_grid:]
    if n_sp:     # rows k, k + 1 of each exact move and their weights 1 - w, w
        pair_rows = np.stack([lower, lower + 1], axis=1).reshape(-1)
        pair_w = np.stack([1.0 - w[:, 0], w[:, 0]], axis=1).reshape(-1, 1).astype(dtype)
        sp_tmp = np.empty((2 * n_sp, n_states), dtype=dtype)
    still = ~problem.plugged & (base[1:] == base[:-1])
    add, smallest, multiply = np.add, np.minimum.reduce, np.multiply
    for t in range(n - 1, -1, -1):
        if still[t]:
            add(inner[t + 1], cost_t[t, j0], out=inner[t])
            if t in state_cost:
                inner[t] += state_cost[t]
            continue
        row, at = windows[t + 1], 0
        for a, b in runs:
            add(row[a:b], cost_t[t, a:b], out=scratch[at:at + b - a])
            at += b - a
        if n_sp:     # exact moves between grid points: (1 - w) V(i + k) + w V(i + k + 1) + cost
            multiply(windows[t + 1][pair_rows], pair_w, out=sp_tmp)
            add(sp_tmp[0::2], sp_tmp[1::2], out=sp_part)
            sp_part += sp_cost[t]
        smallest(scratch, axis=0, out=inner[t])
        if t in state_cost:
            inner[t] += state_cost[t]
    return padded  # row t, column i + j reads V[t](i + j - j0)


def _runs(keep: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in keep (at least one run: all moves if none is kept)."""
    if not keep.any():
        return [(0, len(keep))]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2])]


def _fractional(special, j0: int, n_moves: int, dtype) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Window rows, weights and costs (n, M, 1) of the exact moves that a level can use: the
    same fractional number of steps in every interval (constant minimum powers)."""
    steps, cost = special[0], special[1]
    if len(steps) == 0 or not np.all(steps == steps[:1]):
        return None, np.zeros(0), np.zeros(0)
    s = steps[0]
    k = np.floor(s + 1e-9).astype(np.int64)
    frac = s - k
    keep = (j0 + k >= 0) & (j0 + k + 1 <= n_moves - 1) & (frac > 1e-9) & np.any(np.isfinite(cost), axis=0)
    if not keep.any():
        return None, np.zeros(0), np.zeros(0)
    w = frac[keep].astype(dtype)[:, None]
    return j0 + k[keep], w, np.ascontiguousarray(cost[:, keep], dtype=dtype)[:, :, None]


def _result(problem: Problem, energy: np.ndarray, ev_w: np.ndarray, solve_ms: float,
            warnings: tuple[str, ...], step_wh: float) -> Result:
    soc = energy / problem.capacity_wh * 100.0
    terms = {k: float(v.sum()) for k, v in interval_cost(problem, ev_w).items()}
    terms["terminal_value"] = problem.terminal_value_per_kwh * float(energy[-1]) / 1000.0
    total = terms["import"] - terms["export_revenue"] + terms["degradation"] - terms["terminal_value"]
    shortfall = 0.0
    for k, target in zip(problem.target_index, problem.target_soc_pct):
        if k <= problem.n:
            shortfall = max(shortfall, float(target - soc[k]))
    shortfall = shortfall if shortfall > 1e-9 else 0.0
    lo, hi = bounds_w(problem)
    violation = np.maximum(lo - ev_w, 0.0) + np.maximum(ev_w - hi, 0.0)
    violation_w = float(np.max(violation[problem.plugged], initial=0.0))
    resolution_w = step_wh / (problem.dt_h * min(problem.charge_efficiency, problem.discharge_efficiency))
    return Result(ev_w=ev_w, soc_pct=soc, grid_w=problem.load_w - problem.pv_w + ev_w,
                  cost=total, breakdown=terms, solve_ms=solve_ms, target_shortfall_pct=shortfall,
                  feasible=shortfall == 0.0 and violation_w <= 1.01 * resolution_w, interval_s=problem.interval_s,
                  start=problem.start, soc_step_wh=step_wh, bound_violation_w=violation_w,
                  warnings=warnings)
