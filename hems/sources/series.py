"""What a source gives back: values per interval, each interval with its own start and length.

A day-ahead answer may mix resolutions (hourly before 2025-10-01, 15 minutes after, or both in
one document), so an interval's length travels with it. `on_grid` turns any series into values
on the planner's regular grid, time-weighted, with a mask of what the series really covered.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


class SeriesError(ValueError):
    """A series that cannot be right (non-finite values, overlapping intervals, bad lengths)."""


@dataclass(frozen=True)
class Series:
    """Values per interval. start_s: UTC unix seconds; length_s: seconds; sorted, no overlap.

    value: the main quantity (spot price per kWh, or PV power in W). import_value: a source's own
    retail import price per kWh (Tibber, Octopus), NaN where it gave none."""
    start_s: np.ndarray
    length_s: np.ndarray
    value: np.ndarray
    source: str
    import_value: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n = len(self.start_s)
        if len(self.length_s) != n or len(self.value) != n:
            raise SeriesError("start, length and value differ in length")
        if len(self.import_value) not in (0, n):
            raise SeriesError("import values differ in length")
        if n and not (np.isfinite(self.start_s).all() and np.isfinite(self.value).all()):
            raise SeriesError("non-finite time or value")
        if n and (self.length_s <= 0).any():
            raise SeriesError("an interval of zero or negative length")
        if n > 1 and (self.start_s[1:] < self.start_s[:-1] + self.length_s[:-1] - 1e-6).any():
            raise SeriesError("intervals overlap or are not sorted")

    @classmethod
    def empty(cls, source: str) -> Series:
        z = np.zeros(0)
        return cls(z, z, z, source)

    @classmethod
    def build(cls, rows: list[tuple[float, float, float]], source: str,
              imports: list[float] | None = None) -> Series:
        """From (start_s, length_s, value) rows in any order; one value per start (the last wins)."""
        by_start = {}
        for i, (s, length, v) in enumerate(rows):
            if not (math.isfinite(s) and math.isfinite(length) and math.isfinite(v)):
                raise SeriesError(f"non-finite number in row {i}")
            by_start[float(s)] = (float(length), float(v), float(imports[i]) if imports is not None else math.nan)
        starts = sorted(by_start)
        arr = np.array([(s, *by_start[s]) for s in starts], dtype=float).reshape(-1, 4)
        imp = arr[:, 3] if imports is not None else np.zeros(0)
        return cls(arr[:, 0], arr[:, 1], arr[:, 2], source, imp)

    def __len__(self) -> int:
        return len(self.start_s)

    @property
    def end_s(self) -> float:
        """End of the last interval (nan when empty)."""
        return float(self.start_s[-1] + self.length_s[-1]) if len(self) else math.nan

    @property
    def has_import(self) -> bool:
        return len(self.import_value) == len(self) and len(self) > 0 and bool(np.isfinite(self.import_value).any())

    def merged(self, newer: Series, keep_from_s: float | None = None) -> Series:
        """This series updated with `newer`: newer intervals replace any older one they overlap."""
        rows: list[tuple[float, float, float, float]] = []
        ns, ne = newer.start_s, newer.start_s + newer.length_s
        for k in range(len(self)):
            s, e = self.start_s[k], self.start_s[k] + self.length_s[k]
            if keep_from_s is not None and e <= keep_from_s:
                continue
            if ((ns < e) & (ne > s)).any():
                continue
            rows.append((s, self.length_s[k], self.value[k], _imp(self, k)))
        rows += [(newer.start_s[k], newer.length_s[k], newer.value[k], _imp(newer, k)) for k in range(len(newer))]
        rows.sort()
        arr = np.array(rows, dtype=float).reshape(-1, 4)
        with_imp = self.has_import or newer.has_import
        return Series(arr[:, 0], arr[:, 1], arr[:, 2], newer.source, arr[:, 3] if with_imp else np.zeros(0))

    def window(self, start_s: float, end_s: float) -> Series:
        """The intervals overlapping [start_s, end_s)."""
        keep = (self.start_s < end_s) & (self.start_s + self.length_s > start_s)
        imp = self.import_value[keep] if len(self.import_value) else np.zeros(0)
        return Series(self.start_s[keep], self.length_s[keep], self.value[keep], self.source, imp)


def _imp(s: Series, k: int) -> float:
    return float(s.import_value[k]) if len(s.import_value) else math.nan


def on_grid(series: Series, grid_start_s: np.ndarray, step_s: float, *, imports: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """(values, covered) on intervals [grid_start_s[k], + step_s): the time-weighted mean of the
    series' intervals inside; covered is True only where the series fills the whole interval."""
    t = np.asarray(grid_start_s, dtype=float)
    vals = series.import_value if imports else series.value
    out = np.full(t.shape, np.nan)
    covered = np.zeros(t.shape, dtype=bool)
    if len(series) == 0 or (imports and not series.has_import):
        return out, covered
    s0, s1 = series.start_s, series.start_s + series.length_s
    first = np.searchsorted(s1, t, side="right")
    last = np.searchsorted(s0, t + step_s, side="left")
    for k in range(t.size):
        a, b = first[k], last[k]
        if a >= b:
            continue
        lo = np.maximum(s0[a:b], t[k])
        hi = np.minimum(s1[a:b], t[k] + step_s)
        w = np.clip(hi - lo, 0.0, None)
        v = vals[a:b]
        ok = np.isfinite(v) & (w > 0)
        if w[ok].sum() >= step_s - 1e-6:
            out[k] = float(np.sum(w[ok] * v[ok]) / w[ok].sum())
            covered[k] = True
    return out, covered
