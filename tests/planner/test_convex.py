"""Convex piecewise-linear functions (hems.planner.convex) against brute force on a fine grid."""
from __future__ import annotations

import numpy as np
import pytest

from hems.planner import convex


def random_convex(rng, n_pieces: int) -> convex.Pwl:
    xs = np.concatenate([[rng.uniform(-5, 5)], rng.uniform(0.1, 3, n_pieces)]).cumsum()
    slopes = np.sort(rng.normal(0, 2, n_pieces))
    fs = np.concatenate([[rng.normal()], slopes * np.diff(xs)]).cumsum()
    return convex.from_points(xs, fs)


def evaluate(f: convex.Pwl, x: np.ndarray) -> np.ndarray:
    xs, fs = convex.points(f)
    out = np.interp(x, xs, fs)
    return np.where((x < xs[0] - 1e-9) | (x > xs[-1] + 1e-9), np.inf, out)


@pytest.mark.parametrize("seed", range(10))
def test_infimal_convolution_is_the_minimum_over_splits(seed):
    rng = np.random.default_rng(seed)
    f, g = random_convex(rng, int(rng.integers(1, 6))), random_convex(rng, int(rng.integers(1, 4)))
    h = convex.infconv(f, g)
    fx, _ = convex.points(f)
    for x in np.linspace(convex.points(h)[0][0], convex.points(h)[0][-1], 25):
        y = np.linspace(fx[0], fx[-1], 4001)
        brute = np.min(evaluate(f, y) + evaluate(g, x - y))
        assert evaluate(h, np.array([x]))[0] == pytest.approx(brute, abs=2e-2)
        assert evaluate(h, np.array([x]))[0] <= brute + 1e-9


@pytest.mark.parametrize("seed", range(10))
def test_clip_mirror_and_added_points_keep_the_values(seed):
    rng = np.random.default_rng(100 + seed)
    f = random_convex(rng, 5)
    xs, _ = convex.points(f)
    lo, hi = np.sort(rng.uniform(xs[0] - 1, xs[-1] + 1, 2))
    c = convex.clip(f, lo, hi)
    if c is None:
        assert hi < xs[0] or lo > xs[-1]
        return
    cx, _ = convex.points(c)
    inside = np.linspace(cx[0], cx[-1], 50)
    np.testing.assert_allclose(evaluate(c, inside), evaluate(f, inside), atol=1e-9)
    m = convex.mirror(f)
    np.testing.assert_allclose(evaluate(m, -inside), evaluate(f, inside), atol=1e-9)
    hinge = convex.add_points(f, np.array([0.0, 1.0, 2.0]), np.array([5.0, 0.0, 0.0]))
    np.testing.assert_allclose(evaluate(hinge, inside[inside > xs[0]]),
                               evaluate(f, inside[inside > xs[0]]) + np.maximum(5 * (1 - inside[inside > xs[0]]), 0),
                               atol=1e-9)
