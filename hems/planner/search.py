"""Local search over the modes (off / charging / discharging) of a polished plan.

The polish (hems.planner.polish) is exact for a fixed mode per interval; the DP picks those
modes on a grid and can be wrong where a 6 A minimum makes "on at the minimum" and "off"
nearly tie. For each interval and each other mode, a lower bound on what switching would
change follows from the plan's marginal values of energy (the slopes of the value functions
forward and backward at the plan's SoC): switches whose bound is not negative cannot help.
The others are evaluated exactly, best bound first (the rest of the plan re-optimised around
the switch), and the best improving switch is applied; repeat until none improves. Then a few
pairs of switches are tried (charging moved from one interval to another; charging from PV
and discharging later), each evaluated exactly over the span between the two; an improving
pair restarts the single switches. Every step keeps or lowers the plan's objective.
"""
from __future__ import annotations

import numpy as np

from hems.planner import convex
from hems.planner.polish import (conv_step, backward, forward, interval_pieces, power_ranges,
                                 state_points)
from hems.planner.problem import Problem

MAX_ROUNDS = 12
MAX_EXACT = 40          # exact evaluations per round
_EPS = 1e-7             # currency: smaller improvements are noise


def _mode_ranges(problem: Problem) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(lo_w, hi_w, possible) per mode: off, charging, discharging (the DP's mode rules)."""
    n = problem.n
    lo_c, hi_c = power_ranges(problem, np.full(n, problem.max_charge_w))
    lo_d, hi_d = power_ranges(problem, np.full(n, -problem.max_discharge_w))
    base = problem.load_w - problem.pv_w
    c_hi = np.minimum(problem.max_charge_w, problem.max_import_w - base)
    d_hi = np.minimum(problem.max_discharge_w, problem.max_export_w + base)
    c_ok = (problem.max_charge_w > 0) & (c_hi >= problem.min_charge_w) & problem.plugged
    d_ok = (problem.max_discharge_w > 0) & (d_hi >= problem.min_discharge_w) & problem.plugged
    lo_c, hi_c = np.where(c_ok, np.maximum(lo_c, 0.0), 0.0), np.where(c_ok, np.minimum(hi_c, c_hi), 0.0)
    lo_d, hi_d = np.where(d_ok, -d_hi, 0.0), np.where(d_ok, np.minimum(hi_d, 0.0), 0.0)
    zero = np.zeros(n)
    return [(zero, zero, np.ones(n, dtype=bool)), (lo_c, hi_c, c_ok), (lo_d, hi_d, d_ok)]


def _slopes_at(f: convex.Pwl, x: float) -> tuple[float, float]:
    """Left and right derivative of f at x (+/-inf beyond its domain ends); within 1e-9 Wh of
    a breakpoint both neighbouring slopes count (the wider subgradient keeps bounds valid)."""
    x0, _, slope, length = f
    m = len(slope)
    if m == 0:
        return -np.inf, np.inf
    d = x - x0
    cum = length.cumsum()
    i = int(cum.searchsorted(d - 1e-9))
    j = int(cum.searchsorted(d + 1e-9, "right"))
    left = float(slope[i]) if d > 1e-9 and i < m else -np.inf
    right = float(slope[j]) if j < m else np.inf
    return left, right


def _forward_values(problem: Problem, xs: np.ndarray, fs: np.ndarray,
                    extra: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[convex.Pwl]:
    """F_t: least cost to arrive at boundary t with each stored energy (state costs of 0..t)."""
    lo, hi = problem.floor_wh, problem.ceiling_wh
    f: convex.Pwl = convex.point(problem.soc_wh)
    if 0 in extra:
        f = convex.add_points(f, *extra[0])
    out = [f]
    for t, g in enumerate(_rows(xs, fs)):
        if len(g[2]) == 0:
            f = convex.shift(f, g[1])
        else:
            f = conv_step(f, g, lo, hi) or f
        if t + 1 in extra:
            f = convex.add_points(f, *extra[t + 1])
        out.append(f)
    return out


def _exact(problem: Problem, f: convex.Pwl, v: convex.Pwl, xs: np.ndarray, fs: np.ndarray) -> float:
    """min over E, x of f(E) + g(x) + v(E + x), g given by its breakpoints (xs, fs)."""
    dx = np.diff(xs)
    valid = dx > 1e-9
    g = (float(xs[0]), float(fs[0]), (np.diff(fs)[valid] / dx[valid]), dx[valid])
    w = conv_step(f, g, problem.floor_wh, problem.ceiling_wh)
    if w is None:
        return np.inf
    wx, wf = convex.points(w)
    vx, vf = convex.points(v)
    a, b = max(wx[0], vx[0]), min(wx[-1], vx[-1])
    if a > b + 1e-9:
        return np.inf
    cand = np.clip(np.concatenate((wx, vx)), a, max(a, b))
    return float(np.min(np.interp(cand, wx, wf) + np.interp(cand, vx, vf)))


def improve(problem: Problem, floors: dict[int, float], ev_w: np.ndarray) -> np.ndarray:
    """Powers (W) no worse than ev_w (a polished plan), with improving mode switches applied."""
    modes = _mode_ranges(problem)
    extra = state_points(problem, floors)
    pieces = [interval_pieces(problem, lo, hi) for lo, hi, _ in modes]
    power = ev_w
    for _ in range(MAX_ROUNDS + 1):
        lo, hi = power_ranges(problem, power)
        xs, fs, ps = interval_pieces(problem, lo, hi)
        values = backward(problem, xs, fs, extra)
        if values is None:
            return ev_w
        moved = forward(problem, xs, fs, values)
        power = _powers(problem, moved, ps)
        if _ == MAX_ROUNDS:
            break
        fwd = _forward_values(problem, xs, fs, extra)
        energy = problem.soc_wh + np.concatenate([[0.0], np.cumsum(moved)])
        current = _total(fwd[-1], energy[-1])
        still = xs[:, -1] - xs[:, 0] <= 1e-9
        bounds = _lower_bounds(fwd, values, energy, moved, _row_interp(moved, xs, fs), pieces, modes,
                               lo, hi, still, extra)
        best, best_t, best_m = 0.0, -1, -1
        for k in np.argsort(bounds, axis=None)[:MAX_EXACT]:
            t, m = divmod(int(k), len(modes))
            if bounds[t, m] >= best - _EPS:
                break
            total = _exact(problem, fwd[t], values[t + 1], pieces[m][0][t], pieces[m][1][t])
            if total - current < best - _EPS:
                best, best_t, best_m = total - current, t, m
        if best_t < 0:
            swapped = _best_swap(problem, extra, power, moved, xs, fs, pieces, current,
                                 _paired(bounds, moved, modes), fwd, values)
            if swapped is None:
                break
            power = swapped
            continue
        power = power.copy()
        power[best_t] = 0.0 if best_m == 0 else (modes[best_m][0][best_t] + modes[best_m][1][best_t]) / 2
        if best_m != 0 and power[best_t] == 0.0:
            power[best_t] = modes[best_m][1][best_t] if best_m == 1 else modes[best_m][0][best_t]
    return power


MAX_SWAPS = 4   # pairs evaluated exactly once no single switch improves


def _paired(bounds: np.ndarray, moved: np.ndarray, modes) -> list[tuple[int, int, int, int]]:
    """Pairs of single switches, one adding energy and one removing it (e.g. charging from PV
    and discharging at the evening peak), ranked by the sum of their bounds."""
    n_modes = len(modes)
    more = np.zeros_like(bounds, dtype=bool)
    more[:, 1] = True
    more[:, 0] = moved < 0
    finite = np.isfinite(bounds)
    adds, takes = [], []
    for group, mask in ((adds, more & finite), (takes, ~more & finite)):
        flat = np.flatnonzero(mask.ravel())
        for k in flat[np.argsort(bounds.ravel()[flat])[:3]]:
            t, m = divmod(int(k), n_modes)
            group.append((float(bounds[t, m]), t, m))
    pairs = sorted((a[0] + b[0], a[1], a[2], b[1], b[2]) for a in adds for b in takes
                   if a[1] != b[1] and a[0] + b[0] < 0)
    return [p[1:] for p in pairs[:2]]


def _rows(xs: np.ndarray, fs: np.ndarray) -> list[convex.Pwl]:
    """Each interval's cost as a function of the energy it moves, in the slope-length form."""
    dx, df = np.diff(xs, axis=1), np.diff(fs, axis=1)
    valid = dx > 1e-9
    slope = np.where(valid, df / np.where(valid, dx, 1.0), 0.0)
    x0, f0 = xs[:, 0].tolist(), fs[:, 0].tolist()
    return [(x0[t], f0[t], slope[t][valid[t]], dx[t][valid[t]]) for t in range(len(xs))]


def _row(xs: np.ndarray, fs: np.ndarray) -> convex.Pwl:
    dx = np.diff(xs)
    valid = dx > 1e-9
    return float(xs[0]), float(fs[0]), np.diff(fs)[valid] / dx[valid], dx[valid]


def _exact_span(problem: Problem, fwd, values, plan_rows: list[convex.Pwl], extra, a: int, b: int,
                rows: dict[int, convex.Pwl]) -> float:
    """The best total with intervals a..b re-planned, rows replacing the cost of some of them:
    F_a carried through a..b (the plan's modes elsewhere), then the least sum with V_{b+1}."""
    lo, hi = problem.floor_wh, problem.ceiling_wh
    f: convex.Pwl | None = fwd[a]
    for t in range(a, b + 1):
        g = rows[t] if t in rows else plan_rows[t]
        f = convex.shift(f, g[1]) if len(g[2]) == 0 and abs(g[0]) <= 1e-12 else conv_step(f, g, lo, hi)
        if f is None:
            return np.inf
        if t + 1 in extra and t < b:
            f = convex.add_points(f, *extra[t + 1])
    wx, wf = convex.points(f)
    vx, vf = convex.points(values[b + 1])
    lo_x, hi_x = max(wx[0], vx[0]), min(wx[-1], vx[-1])
    if lo_x > hi_x + 1e-9:
        return np.inf
    cand = np.clip(np.concatenate((wx, vx)), lo_x, max(lo_x, hi_x))
    return float(np.min(np.interp(cand, wx, wf) + np.interp(cand, vx, vf)))


def _best_swap(problem: Problem, extra, power: np.ndarray, moved: np.ndarray, xs: np.ndarray,
               fs: np.ndarray, pieces, current: float, paired, fwd, values) -> np.ndarray | None:
    """Charging moved from one interval to another (one switched off, one on), for the case
    where neither switch helps alone: the 6 A minimum makes the energy come in lumps. Pairs
    are ranked by the price per Wh saved against the price per Wh paid; the best few are
    polished in full and the best improving plan is returned."""
    zero_cost = pieces[0][1][:, 0]
    on = moved > 1e-9
    if not on.any():
        return None
    saved = np.where(on, (_row_interp(moved, xs, fs) - zero_cost) / np.where(on, moved, 1.0), -np.inf)
    c_xs, c_fs, _ = pieces[1]
    grow = c_xs
    with np.errstate(divide="ignore", invalid="ignore"):
        per_wh = np.where(grow > 1e-9, (c_fs - zero_cost[:, None]) / grow, np.inf).min(axis=1)
    paid = np.where(~on & (c_xs[:, -1] > 1e-9) & (np.abs(power) < 1e-9), per_wh, np.inf)
    offs = np.argsort(-saved)[:3]
    ons = np.argsort(paid)[:3]
    pairs = sorted(((float(paid[a] - saved[b]), int(a), int(b)) for a in ons for b in offs
                    if a != b and paid[a] < saved[b] - 1e-12), key=lambda x: x[0])[:MAX_SWAPS - len(paired)]
    trials = [(a, 1, b, 0) for _, a, b in pairs] + list(paired)
    plan_rows = _rows(xs, fs) if trials else []
    best, best_power = current - _EPS, None
    level = {0: 0.0, 1: max(problem.min_charge_w, 1e-3), 2: -max(problem.min_discharge_w, 1e-3)}
    for t1, m1, t2, m2 in trials:
        a, b = min(t1, t2), max(t1, t2)
        rows = {t1: _row(pieces[m1][0][t1], pieces[m1][1][t1]), t2: _row(pieces[m2][0][t2], pieces[m2][1][t2])}
        total = _exact_span(problem, fwd, values, plan_rows, extra, a, b, rows)
        if total < best:
            trial = power.copy()
            trial[t1], trial[t2] = level[m1], level[m2]
            best, best_power = total, trial
    return best_power


def _total(f_end: convex.Pwl, e_end: float) -> float:
    xs, fs = convex.points(f_end)
    return float(np.interp(e_end, xs, fs))


def _powers(problem: Problem, moved: np.ndarray, ps: np.ndarray) -> np.ndarray:
    power = np.where(moved > 0, moved / (problem.charge_efficiency * problem.dt_h),
                     moved * problem.discharge_efficiency / problem.dt_h)
    return np.clip(power, ps[:, 0], ps[:, -1])


def _row_interp(x: np.ndarray, xs: np.ndarray, fs: np.ndarray) -> np.ndarray:
    """Per row t: the piecewise-linear (xs[t], fs[t]) at x[t] (x clipped into the row's range)."""
    rows = np.arange(len(xs))
    x = np.clip(x, xs[:, 0], xs[:, -1])
    i = np.clip((xs <= x[:, None]).sum(axis=1) - 1, 0, xs.shape[1] - 2)
    xa, xb, fa, fb = xs[rows, i], xs[rows, i + 1], fs[rows, i], fs[rows, i + 1]
    span = xb - xa
    w = np.where(span > 1e-12, (x - xa) / np.where(span > 1e-12, span, 1.0), 0.0)
    return fa + w * (fb - fa)


def _marginal_values(fwd, values, energy, still, extra) -> tuple[np.ndarray, np.ndarray]:
    """Per interval t, the cost per Wh of moving one Wh more (lam_up) or less (lam_down) in t,
    the rest re-optimised: the future absorbs it (slopes of V_{t+1} at the plan's SoC) or the
    past makes it up (slopes of F_t). Slopes repeat across idle intervals, so they are only
    computed where something changes."""
    n = len(still)
    f_l, f_r, v_l, v_r = (np.empty(n) for _ in range(4))
    for t in range(n):
        if t and still[t - 1] and t not in extra:
            f_l[t], f_r[t] = f_l[t - 1], f_r[t - 1]
        else:
            f_l[t], f_r[t] = _slopes_at(fwd[t], float(energy[t]))
    for t in range(n - 1, -1, -1):
        if t < n - 1 and still[t + 1] and (t + 1) not in extra:
            v_l[t], v_r[t] = v_l[t + 1], v_r[t + 1]
        else:
            v_l[t], v_r[t] = _slopes_at(values[t + 1], float(energy[t + 1]))
    return np.minimum(v_r, -f_l), np.maximum(v_l, -f_r)


def _lower_bounds(fwd, values, energy, moved, cur_cost, pieces, modes, lo, hi, still, extra) -> np.ndarray:
    """(n, modes): a lower bound on the change of the plan's total from switching interval t to
    mode m (inf where m is its current mode or impossible)."""
    n = len(moved)
    lam_up, lam_down = _marginal_values(fwd, values, energy, still, extra)
    out = np.full((n, len(modes)), np.inf)
    for m, (m_lo, m_hi, ok) in enumerate(modes):
        same = (np.abs(m_lo - lo) < 1e-6) & (np.abs(m_hi - hi) < 1e-6)
        if not np.any(ok & ~same):
            continue
        xs, fs, _ = pieces[m]
        at = np.clip(moved, xs[:, 0], xs[:, -1])
        cand = np.concatenate([xs, at[:, None]], axis=1)
        g = np.concatenate([fs, _row_interp(at, xs, fs)[:, None]], axis=1)
        d = cand - moved[:, None]
        lam = np.where(d > 0, lam_up[:, None], lam_down[:, None])
        change = g + np.where(d != 0, lam * np.where(d != 0, d, 1.0), 0.0) - cur_cost[:, None]
        change = np.where(np.isnan(change), np.inf, change)
        out[:, m] = np.where(ok & ~same, change.min(axis=1), np.inf)
    return out
