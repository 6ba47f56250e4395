"""Interval lengths for providers that give only start times."""
from __future__ import annotations

import numpy as np


def lengths_from_starts(starts_s: list[float], default_s: float) -> list[float]:
    """Each interval runs to the next start; the last one as long as the one before it (or
    default_s when alone). Starts must be sorted and distinct."""
    t = np.asarray(starts_s, dtype=float)
    if t.size == 0:
        return []
    if t.size == 1:
        return [float(default_s)]
    d = np.diff(t)
    return [float(x) for x in d] + [float(d[-1])]
