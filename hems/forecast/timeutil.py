"""Times as numpy arrays: UTC seconds in, local calendar parts out (DST-aware, vectorised)."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

DAY_S = 86400


def utc_seconds(times: Any) -> np.ndarray:
    """Unix seconds (float64) from datetime64 values (taken as UTC), aware datetimes, or numbers."""
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ms]").astype("int64") / 1000.0
    if arr.dtype.kind in "iuf":
        return arr.astype(float)
    flat = [t.astimezone(timezone.utc).timestamp() if isinstance(t, datetime) else float(t) for t in arr.ravel()]
    return np.array(flat, dtype=float).reshape(arr.shape)


def as_datetime64(times: Any) -> np.ndarray:
    """datetime64[s] (UTC) from anything utc_seconds accepts."""
    return np.round(utc_seconds(times)).astype("int64").astype("datetime64[s]")


def zone(tz: str | ZoneInfo | None) -> ZoneInfo:
    if tz is None:
        return ZoneInfo("UTC")
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


@lru_cache(maxsize=64)
def _offset_table(tz_key: str, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the UTC offset changes during a year (scanned every 15 min): starts, offsets (s)."""
    tz = ZoneInfo(tz_key)
    t0 = datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()
    t1 = datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp()
    grid = np.arange(t0, t1 + 1, 900.0)
    offs = np.array([datetime.fromtimestamp(t, tz).utcoffset().total_seconds() for t in grid])
    change = np.flatnonzero(np.diff(offs)) + 1
    starts = np.concatenate([[-np.inf], grid[change]])
    return starts, np.concatenate([[offs[0]], offs[change]])


def utc_offset_s(utc_s: np.ndarray, tz: str | ZoneInfo | None) -> np.ndarray:
    """The zone's UTC offset (s) at each instant."""
    z = zone(tz)
    utc_s = np.asarray(utc_s, dtype=float)
    out = np.zeros_like(utc_s)
    if utc_s.size == 0:
        return out
    first, last = (_year(float(v)) for v in (np.min(utc_s), np.max(utc_s)))
    for year in range(first, last + 1):
        starts, offs = _offset_table(z.key, year)
        if first == last:
            return offs[np.searchsorted(starts, utc_s, side="right") - 1]
        y0 = datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()
        y1 = datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp()
        mask = (utc_s >= y0) & (utc_s < y1)
        out[mask] = offs[np.searchsorted(starts, utc_s[mask], side="right") - 1]
    return out


def _year(utc_s: float) -> int:
    return datetime.fromtimestamp(utc_s, timezone.utc).year


def local_parts(utc_s: np.ndarray, tz: str | ZoneInfo | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local day number since 1970-01-01, weekday 0 = Monday, seconds since local midnight)."""
    local = np.asarray(utc_s, dtype=float) + utc_offset_s(utc_s, tz)
    day = np.floor(local / DAY_S).astype("int64")
    weekday = (day + 3) % 7          # 1970-01-01 was a Thursday
    return day, weekday, local - day * DAY_S


def step_s(utc_s: np.ndarray, default: float = 0.0) -> float:
    """The typical spacing of a time series (median difference), or default if it has < 2 points."""
    if len(utc_s) < 2:
        return default
    return float(np.median(np.diff(utc_s)))


def coarsen(utc_s: np.ndarray, values: np.ndarray, bin_s: float = 900.0) -> tuple[np.ndarray, np.ndarray]:
    """Means of finite values per bin_s bin (bin starts, means), for series finer than bin_s;
    coarser or empty series are returned as they are (sorted by time). Learning from 15-min means instead of
    per-minute rows keeps the forecasts cheap on a Pi."""
    utc_s = np.asarray(utc_s, dtype=float)
    values = np.asarray(values, dtype=float)
    if utc_s.shape != values.shape:
        raise ValueError(f"history has {utc_s.size} times but {values.size} values")
    if utc_s.size > 1 and np.any(np.diff(utc_s) < 0):
        order = np.argsort(utc_s, kind="stable")
        utc_s, values = utc_s[order], values[order]
    if utc_s.size < 2 or step_s(utc_s) >= bin_s:
        return utc_s, values
    ok = np.isfinite(values)
    if not ok.any():
        return utc_s[:0], values[:0]
    bins = np.floor(utc_s[ok] / bin_s).astype("int64")
    first = bins.min()
    idx = bins - first
    total = np.bincount(idx, values[ok])
    count = np.bincount(idx)
    keep = count > 0
    return (np.flatnonzero(keep) + first) * bin_s, total[keep] / count[keep]
