"""Continuous polish of a plan: keep the DP's choice of mode per interval (off, charging,
discharging), then find the best continuous powers within those modes, exactly.

With each interval's power confined to one interval of powers ([min, max] of its direction,
or {0}; when a direction's minimum is 0 the two sides and 0 join into one range), the cost of
an interval is a convex piecewise-linear function of the energy it moves (kinks where the grid
crosses zero, at aggregator bounds, at 0 W), the SoC limits are bounds on running sums and the
soft targets are convex penalties. So the best plan for that pattern follows from a dynamic
programme over convex piecewise-linear value functions (hems.planner.convex), with no grid:
exact to rounding. Constant efficiencies only (with a curve, energy is not linear in power).
"""
from __future__ import annotations

import numpy as np

from hems.planner import convex
from hems.planner.actions import BOUND_PENALTY_PER_KWH, TARGET_PENALTY_PER_KWH, bounds_w, interval_cost, stored_wh
from hems.planner.problem import Problem

_TOL_W = 1e-6


def supported(problem: Problem) -> bool:
    return problem.charge_efficiency_curve is None and problem.discharge_efficiency_curve is None


def power_ranges(problem: Problem, ev_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per interval the range of powers [lo, hi] (W) of the mode that contains ev_w."""
    base = problem.load_w - problem.pv_w
    c_hi = np.minimum(problem.max_charge_w, problem.max_import_w - base)
    d_hi = np.minimum(problem.max_discharge_w, problem.max_export_w + base)
    c_ok = (problem.max_charge_w > 0) & (c_hi >= problem.min_charge_w) & problem.plugged
    d_ok = (problem.max_discharge_w > 0) & (d_hi >= problem.min_discharge_w) & problem.plugged
    c_joins = c_ok & (problem.min_charge_w <= _TOL_W)      # charging range reaches down to 0 W
    d_joins = d_ok & (problem.min_discharge_w <= _TOL_W)
    both = c_joins & d_joins
    up, down = ev_w > _TOL_W, ev_w < -_TOL_W
    zero_lo = np.where(d_joins, -d_hi, 0.0)
    zero_hi = np.where(c_joins, c_hi, 0.0)
    lo = np.where(up, np.where(both, -d_hi, np.where(c_joins, 0.0, problem.min_charge_w)),
                  np.where(down, -d_hi, zero_lo))
    hi = np.where(down, np.where(both, c_hi, np.where(d_joins, 0.0, -problem.min_discharge_w)),
                  np.where(up, c_hi, zero_hi))
    return np.minimum(lo, ev_w), np.maximum(hi, ev_w)


def interval_pieces(problem: Problem, lo_w: np.ndarray, hi_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(energy moved Wh, cost, power W) at the kinks of each interval's cost, ascending: (n, 6)."""
    base = problem.load_w - problem.pv_w
    b_lo, b_hi = bounds_w(problem)
    cand = np.stack([lo_w, hi_w, np.zeros_like(lo_w), -base, b_lo, b_hi], axis=1)
    cand = np.sort(np.clip(cand, lo_w[:, None], hi_w[:, None]), axis=1)
    terms = interval_cost(problem, cand)
    cost = terms["import"] - terms["export_revenue"] + terms["degradation"]
    outside = np.maximum(b_lo[:, None] - cand, 0.0) + np.maximum(cand - b_hi[:, None], 0.0)
    cost = cost + BOUND_PENALTY_PER_KWH * outside * problem.dt_h / 1000.0
    return stored_wh(problem, cand), cost, cand


def convex_rows(xs: np.ndarray, fs: np.ndarray) -> np.ndarray:
    """Per row: are the slopes of the piecewise-linear cost nondecreasing?"""
    dx = np.diff(xs, axis=1)
    valid = dx > 1e-9
    slope = np.where(valid, np.diff(fs, axis=1) / np.where(valid, dx, 1.0), -np.inf)
    running = np.maximum.accumulate(slope, axis=1)
    before = np.concatenate([np.full((len(xs), 1), -np.inf), running[:, :-1]], axis=1)
    scale = 1e-9 * (1.0 + np.abs(before))
    return np.all(~valid | (slope >= before - np.where(np.isfinite(before), scale, 0.0)), axis=1)


def pieces_for(problem: Problem, ev_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """interval_pieces of the modes containing ev_w; a range across 0 W whose cost is not convex
    (negative prices) keeps only the side of ev_w."""
    lo, hi = power_ranges(problem, ev_w)
    xs, fs, ps = interval_pieces(problem, lo, hi)
    bad = ~convex_rows(xs, fs)
    if bad.any():
        lo = np.where(bad & (ev_w >= 0), np.maximum(lo, 0.0), lo)
        hi = np.where(bad & (ev_w < 0), np.minimum(hi, 0.0), hi)
        xs, fs, ps = interval_pieces(problem, lo, hi)
    return xs, fs, ps


def state_points(problem: Problem, floors: dict[int, float]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per boundary with a state cost: that cost as breakpoints (target penalties, terminal value)."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    per_wh = TARGET_PENALTY_PER_KWH / 1000.0
    for k, e in floors.items():
        out[k] = (np.array([e - 1000.0, e, e + 1000.0]), np.array([per_wh * 1000.0, 0.0, 0.0]))
    if problem.terminal_value_per_kwh:
        xs, fs = out.get(problem.n, (np.array([0.0, 1000.0]), np.zeros(2)))
        fs = fs - problem.terminal_value_per_kwh * xs / 1000.0
        out[problem.n] = (xs, fs)
    return out


def mirrored_rows(xs: np.ndarray, fs: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Per interval u -> cost(-u) as (x0, f0, slopes, lengths): what the backward step merges."""
    dx, df = np.diff(xs, axis=1), np.diff(fs, axis=1)
    valid = dx > 1e-9
    slope = np.where(valid, df / np.where(valid, dx, 1.0), 0.0)
    m_slope, m_len, m_valid = -slope[:, ::-1], dx[:, ::-1], valid[:, ::-1]
    x0, f0 = (-xs[:, -1]).tolist(), fs[:, -1].tolist()
    return [(x0[t], f0[t], m_slope[t][m_valid[t]], m_len[t][m_valid[t]]) for t in range(len(xs))]


def conv_step(v: convex.Pwl, g: convex.Pwl, lo: float, hi: float) -> convex.Pwl | None:
    """clip(infconv(v, g), lo, hi) in the slope-length form, with few numpy calls."""
    slope = np.concatenate((v[2], g[2]))
    length = np.concatenate((v[3], g[3]))
    order = slope.argsort(kind="stable")
    slope, length = slope[order], length[order]
    x0, f0 = v[0] + g[0], v[1] + g[1]
    if len(length) == 0:
        return (x0, f0, slope, length) if lo - 1e-6 <= x0 <= hi + 1e-6 else None
    cum = length.cumsum()
    if x0 + cum[-1] < lo - 1e-6 or x0 > hi + 1e-6:
        return None
    if x0 < lo:
        d = lo - x0
        k = min(int(cum.searchsorted(d, "right")), len(cum) - 1)
        f0 += float(np.dot(slope[:k], length[:k])) + float(slope[k]) * (d - (float(cum[k - 1]) if k else 0.0))
        slope, length, cum = slope[k:], length[k:].copy(), cum[k:] - d
        length[0] = max(float(cum[0]), 0.0)
        x0 = lo
    if x0 + cum[-1] > hi:
        e = max(hi - x0, 0.0)
        k = int(cum.searchsorted(e, "left"))
        slope, length = slope[:k + 1], length[:k + 1].copy()
        length[-1] -= float(cum[k]) - e
    if length[0] <= 1e-12 and len(length) > 1:
        slope, length = slope[1:], length[1:]
    return x0, f0, slope, length


def backward(problem: Problem, xs: np.ndarray, fs: np.ndarray,
             extra: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[convex.Pwl] | None:
    """Value functions V_t (t = 0..n) for the fixed modes; None if no plan fits them."""
    n, lo, hi = problem.n, problem.floor_wh, problem.ceiling_wh
    values: list[convex.Pwl | None] = [None] * (n + 1)
    v: convex.Pwl | None = convex.from_points(np.array([lo, hi]), np.zeros(2))
    still = (xs[:, -1] - xs[:, 0] <= 1e-9).tolist()
    rows = mirrored_rows(xs, fs)
    for t in range(n, -1, -1):
        if t < n:
            if still[t]:
                v = convex.shift(v, float(fs[t, 0]))
            else:
                v = conv_step(v, rows[t], lo, hi)
                if v is None:
                    return None
        if t in extra:
            v = convex.add_points(v, *extra[t])
        values[t] = v
    return values  # type: ignore[return-value]


def forward(problem: Problem, xs: np.ndarray, fs: np.ndarray, values: list[convex.Pwl]) -> np.ndarray:
    """Energy moved per interval (Wh) of the best plan from the initial SoC."""
    e = problem.soc_wh
    moved = xs[:, 0].copy()
    still = (xs[:, -1] - xs[:, 0] <= 1e-9).tolist()
    for t in range(problem.n):
        if still[t]:
            e += moved[t]
            continue
        vx, vf = convex.points(values[t + 1])
        lo, hi = max(xs[t, 0], vx[0] - e), min(xs[t, -1], vx[-1] - e)
        cand = np.concatenate((xs[t], vx - e)).clip(lo, max(hi, lo))
        total = np.interp(cand, xs[t], fs[t]) + np.interp(cand + e, vx, vf) + 1e-12 * np.abs(cand)
        x = float(cand[total.argmin()])
        moved[t] = x
        e += x
    return moved


def convex_problem(problem: Problem) -> bool:
    """True when every interval's powers form one range (both minimums 0, or a direction
    disabled) with a convex cost: then polishing an idle plan gives the exact optimum."""
    if not supported(problem):
        return False
    lo, hi = power_ranges(problem, np.zeros(problem.n))
    base = problem.load_w - problem.pv_w
    c_hi = np.minimum(problem.max_charge_w, problem.max_import_w - base)
    d_hi = np.minimum(problem.max_discharge_w, problem.max_export_w + base)
    c_ok = (problem.max_charge_w > 0) & (c_hi >= problem.min_charge_w)
    d_ok = (problem.max_discharge_w > 0) & (d_hi >= problem.min_discharge_w)
    full = (~c_ok | (hi >= c_hi - _TOL_W)) & (~d_ok | (lo <= -d_hi + _TOL_W))
    if not np.all(full | ~problem.plugged):
        return False
    xs, fs, _ = interval_pieces(problem, lo, hi)
    return bool(np.all(convex_rows(xs, fs)))


def polish(problem: Problem, floors: dict[int, float], ev_w: np.ndarray) -> np.ndarray | None:
    """The best powers (W) with every interval kept in the mode ev_w uses; None if unsupported."""
    if not supported(problem):
        return None
    xs, fs, ps = pieces_for(problem, ev_w)
    values = backward(problem, xs, fs, state_points(problem, floors))
    if values is None:
        return None
    moved = forward(problem, xs, fs, values)
    power = np.where(moved > 0, moved / (problem.charge_efficiency * problem.dt_h),
                     moved * problem.discharge_efficiency / problem.dt_h)
    return np.clip(power, ps[:, 0], ps[:, -1])
