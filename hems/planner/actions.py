"""The planner's discrete model: a SoC grid, the EV powers that move between grid points,
and the cost of every power in every interval.

The SoC grid has a step of h Wh anchored at the initial SoC. A move changes the battery by
k grid steps in one interval; its AC power is the one that stores (k > 0) or removes (k < 0)
exactly k*h Wh, so every plan is physically exact. Powers outside 0 / [min, max] are not moves.
"""
from __future__ import annotations

import math

import numpy as np

from hems.planner.problem import EfficiencyCurve, Problem

TARGET_PENALTY_PER_KWH = 1.0e4   # missing an owner target costs far more than any tariff
BOUND_PENALTY_PER_KWH = 1.0e2    # leaving an aggregator bound: less than a target, more than prices
DEFAULT_WORK = 20_000            # states x moves per interval at the coarse level; sets its step


def _efficiency(curve: EfficiencyCurve | None, constant: float, power_w: np.ndarray) -> np.ndarray:
    if curve is None:
        return np.full_like(power_w, constant, dtype=float)
    return np.interp(power_w, curve[0], curve[1])


def stored_wh(problem: Problem, power_w: np.ndarray) -> np.ndarray:
    """Battery energy change (Wh) over one interval at AC power power_w (+ charging)."""
    p = np.asarray(power_w, dtype=float)
    dt = problem.dt_h
    eta_c = _efficiency(problem.charge_efficiency_curve, problem.charge_efficiency, np.abs(p))
    eta_d = _efficiency(problem.discharge_efficiency_curve, problem.discharge_efficiency, np.abs(p))
    return np.where(p >= 0, p * eta_c * dt, p * dt / eta_d)


def power_for(problem: Problem, energy_wh: np.ndarray, charging: bool, p_max: float) -> np.ndarray:
    """Inverse of stored_wh on [0, p_max]: the AC power that moves energy_wh (>= 0)."""
    curve = problem.charge_efficiency_curve if charging else problem.discharge_efficiency_curve
    eta = problem.charge_efficiency if charging else problem.discharge_efficiency
    dt = problem.dt_h
    if curve is None:
        return energy_wh / (eta * dt) if charging else energy_wh * eta / dt
    p = np.linspace(0.0, p_max, 4001)
    e = np.abs(stored_wh(problem, p if charging else -p))
    e = np.maximum.accumulate(e)
    return np.interp(energy_wh, e, p, right=np.inf)   # more than p_max can move: no power does


def choose_step_wh(problem: Problem, work: int = DEFAULT_WORK) -> float:
    """Grid step: about `work` state-action pairs per interval, max charge exactly on the grid."""
    span = max(problem.ceiling_wh - problem.floor_wh, 1.0)
    e_c = float(stored_wh(problem, np.array([problem.max_charge_w]))[0])
    e_d = float(-stored_wh(problem, np.array([-problem.max_discharge_w]))[0])
    if problem.soc_step_wh is not None:
        return float(problem.soc_step_wh)
    h = max(math.sqrt(span * max(min(e_c, span) + min(e_d, span), 1.0) / work), span / 4000.0)
    return _fitting_step(problem, h, e_c, e_d, span)


def _fitting_step(problem: Problem, h: float, e_c: float, e_d: float, span: float) -> float:
    """A step near h at which the min and max powers of both directions lose least to rounding
    (min powers round up, max powers round down to whole steps); it divides the energy of one
    interval at full charging power, so charging at full power is always exact."""
    e_cmin = float(stored_wh(problem, np.array([problem.min_charge_w]))[0])
    e_dmin = float(-stored_wh(problem, np.array([-problem.min_discharge_w]))[0])
    if 0.8 * h <= e_c <= span:   # the full charging power stays exact: the step divides its energy
        m = np.arange(max(1, math.floor(e_c / (1.25 * h))), math.ceil(e_c / (0.8 * h)) + 1)
        steps = e_c / m
    else:
        steps = h * np.linspace(0.8, 1.25, 181)
    loss = np.zeros_like(steps)
    for e_min, e_max in ((e_cmin, e_c), (e_dmin, e_d)):
        if e_max <= 0:
            continue
        if e_min > 0:
            loss += (np.ceil(e_min / steps - 1e-9) * steps - e_min) / e_min
        loss += (e_max - np.floor(e_max / steps + 1e-9) * steps) / e_max
    return float(steps[int(np.argmin(loss + 1e-3 * np.abs(steps / h - 1)))])


def move_power(problem: Problem, move_wh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AC power (W) that changes the stored energy by move_wh in one interval, and whether that
    power is allowed by the car: exactly 0, or within [min, max] of its direction."""
    e = np.asarray(move_wh, dtype=float)
    power = np.zeros(e.shape)
    up, down = e > 0, e < 0
    tol = 1e-6
    if problem.max_charge_w > 0 and up.any():
        power[up] = power_for(problem, e[up], True, problem.max_charge_w)
    if problem.max_discharge_w > 0 and down.any():
        power[down] = -power_for(problem, -e[down], False, problem.max_discharge_w)
    ok_c = up & (power > 0) & (power >= problem.min_charge_w - tol) & (power <= problem.max_charge_w + tol) \
        & (problem.max_charge_w > 0)
    ok_d = down & (power < 0) & (-power >= problem.min_discharge_w - tol) \
        & (-power <= problem.max_discharge_w + tol) & (problem.max_discharge_w > 0)
    power = np.where(ok_c, np.clip(power, problem.min_charge_w, problem.max_charge_w), power)
    power = np.where(ok_d, np.clip(power, -problem.max_discharge_w, -problem.min_discharge_w), power)
    valid = (e == 0) | ok_c | ok_d
    return np.where(valid, power, 0.0), valid


def max_moves(problem: Problem, step_wh: float) -> tuple[int, int]:
    """(charge, discharge): the most grid steps one interval can move the battery."""
    e_c = float(stored_wh(problem, np.array([problem.max_charge_w]))[0])
    e_d = float(-stored_wh(problem, np.array([-problem.max_discharge_w]))[0])
    return math.floor(e_c / step_wh + 1e-9), math.floor(e_d / step_wh + 1e-9)


def bounds_w(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Aggregator bounds per interval (W); -inf/+inf where there is none."""
    n = problem.n
    lo = np.full(n, -np.inf) if problem.ev_min_w is None else np.where(
        np.isnan(problem.ev_min_w), -np.inf, problem.ev_min_w)
    hi = np.full(n, np.inf) if problem.ev_max_w is None else np.where(
        np.isnan(problem.ev_max_w), np.inf, problem.ev_max_w)
    if problem.ev_fixed_w is not None:
        fixed = ~np.isnan(problem.ev_fixed_w)
        lo = np.where(fixed, problem.ev_fixed_w, lo)
        hi = np.where(fixed, problem.ev_fixed_w, hi)
    return lo, hi


def site_allows(problem: Problem, power_w: np.ndarray) -> np.ndarray:
    """(n, K) mask: the EV power keeps the grid within the site limits (or does not worsen it)."""
    grid = (problem.load_w - problem.pv_w)[:, None] + power_w
    ok_import = (grid <= problem.max_import_w + 1e-9) | (power_w <= 0)
    ok_export = (-grid <= problem.max_export_w + 1e-9) | (power_w >= 0)
    return ok_import & ok_export


def interval_cost(problem: Problem, ev_w: np.ndarray) -> dict[str, np.ndarray]:
    """Cost terms per interval for EV powers broadcast against the horizon (currency)."""
    ev = np.asarray(ev_w, dtype=float)
    base = problem.load_w - problem.pv_w
    if ev.ndim == 2:
        base = base[:, None]
        ip, ep = problem.import_price_per_kwh[:, None], problem.export_price_per_kwh[:, None]
    else:
        ip, ep = problem.import_price_per_kwh, problem.export_price_per_kwh
    grid = base + ev
    kwh = problem.dt_h / 1000.0
    return {
        "import": ip * np.maximum(grid, 0.0) * kwh,
        "export_revenue": ep * np.maximum(-grid, 0.0) * kwh,
        "degradation": problem.degradation_per_kwh * np.abs(ev) * kwh,
    }


def cost_matrix(problem: Problem, power_w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(n, K) cost of each EV power in each interval, +inf where it is not allowed."""
    terms = interval_cost(problem, power_w)
    cost = terms["import"] - terms["export_revenue"] + terms["degradation"]
    lo, hi = bounds_w(problem)
    outside_w = np.maximum(lo[:, None] - power_w, 0.0) + np.maximum(power_w - hi[:, None], 0.0)
    cost = cost + BOUND_PENALTY_PER_KWH * outside_w * problem.dt_h / 1000.0
    allowed = valid & site_allows(problem, power_w)
    allowed &= problem.plugged[:, None] | (power_w == 0)
    return np.where(allowed, cost, np.inf)
