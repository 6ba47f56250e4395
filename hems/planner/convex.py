"""Convex piecewise-linear functions of the stored energy, for the continuous polish.

A function is a tuple (x0, f0, slope, length): defined on [x0, x0 + sum(length)], value f0 at
x0, then segments of the given lengths (> 0) with nondecreasing slopes. In this form the
infimal convolution of two convex functions, min over y of f(y) + g(x - y), is a merge of their
segments by slope, which is what one step of a dynamic programme over a convex problem needs.
"""
from __future__ import annotations

import numpy as np

Pwl = tuple[float, float, np.ndarray, np.ndarray]

_EMPTY = np.zeros(0)


def from_points(xs: np.ndarray, fs: np.ndarray) -> Pwl:
    """The function through (xs, fs), xs ascending; repeated xs are dropped."""
    length = np.diff(xs)
    keep = length > 1e-9
    slope = np.diff(fs)[keep] / length[keep]
    return float(xs[0]), float(fs[0]), slope, length[keep]


def points(f: Pwl) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (xs, fs) of f, first and last included."""
    x0, f0, slope, length = f
    xs = np.empty(len(length) + 1)
    fs = np.empty(len(length) + 1)
    xs[0], fs[0] = x0, f0
    np.cumsum(length, out=xs[1:])
    np.cumsum(slope * length, out=fs[1:])
    xs[1:] += x0
    fs[1:] += f0
    return xs, fs


def infconv(f: Pwl, g: Pwl) -> Pwl:
    """min over y of f(y) + g(x - y): segments of both, sorted by slope."""
    slope = np.concatenate((f[2], g[2]))
    length = np.concatenate((f[3], g[3]))
    order = np.argsort(slope, kind="stable")
    return f[0] + g[0], f[1] + g[1], slope[order], length[order]


def mirror(f: Pwl) -> Pwl:
    """x -> f(-x)."""
    x0, f0, slope, length = f
    end = x0 + float(length.sum())
    return -end, f0 + float(np.dot(slope, length)), -slope[::-1], length[::-1]


def clip(f: Pwl, lo: float, hi: float) -> Pwl | None:
    """f restricted to [lo, hi] (None when that leaves nothing)."""
    x0, f0, slope, length = f
    end = x0 + float(length.sum())
    lo, hi = max(lo, x0), min(hi, end)
    if lo > hi + 1e-9:
        return None
    if lo == x0 and hi == end:
        return f
    xs, fs = points(f)
    inner = (xs > lo) & (xs < hi)
    cut = np.concatenate(([lo], xs[inner], [max(hi, lo)]))
    return from_points(cut, np.interp(cut, xs, fs))


def add_points(f: Pwl, xs_g: np.ndarray, fs_g: np.ndarray) -> Pwl:
    """f + g, g given by breakpoints (linear in between, extended linearly beyond its ends)."""
    xs, fs = points(f)
    inner = (xs_g > xs[0]) & (xs_g < xs[-1])
    at = np.union1d(xs, xs_g[inner])
    return from_points(at, np.interp(at, xs, fs) + _extrapolate(at, xs_g, fs_g))


def _extrapolate(x: np.ndarray, xs: np.ndarray, fs: np.ndarray) -> np.ndarray:
    out = np.interp(x, xs, fs)
    if len(xs) >= 2:
        left, right = x < xs[0], x > xs[-1]
        out[left] = fs[0] + (x[left] - xs[0]) * (fs[1] - fs[0]) / (xs[1] - xs[0])
        out[right] = fs[-1] + (x[right] - xs[-1]) * (fs[-1] - fs[-2]) / (xs[-1] - xs[-2])
    return out


def shift(f: Pwl, df: float) -> Pwl:
    return f[0], f[1] + df, f[2], f[3]


def point(x: float, value: float = 0.0) -> Pwl:
    return x, value, _EMPTY, _EMPTY
