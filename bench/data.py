"""The benchmark year from the real data in hems/data/, at 15 min (see hems/data/README.md).

Year: 2024-02-29 00:00 UTC .. 2025-02-28 00:00 UTC (365 days, 35040 intervals).
House load and PV (30 min, one house in north-east France): each value held for both 15-min
halves; PV gaps of more than 3 h are night (0 W), shorter gaps and load gaps are interpolated;
the last hour, past the end of the series, repeats the day before.
Prices (NL day-ahead, hourly): actual until 2025-01-07; the last 51 days reuse the prices of
the same weekdays 52 weeks (364 days) earlier, because the published series ends there.
Import price = spot + 0.15 EUR/kWh, export price = spot.

Variants (`load_year(pv=..., tariff=...)`):
- pv="piedmont": the PV of a modelled 6 kWp array in Piedmont, Italy (45 N 8 E, 35 deg, south;
  pvlib on the PVGIS-SARAH typical year, hems/data/pv_6kwp_piedmont_tmy_hourly.csv), each hour
  placed on the same month, day and UTC hour of the benchmark year (29 February reuses the
  28th), held for its four 15-min intervals; the house load stays the French house's.
- tariff="v2g": import = spot + 0.10, export = spot, on a 15-min spot series made from the hourly
  one by linear interpolation between the hours' midpoints (the data holds no real 15-min
  series; this keeps each hour's level and adds the ramps a quarter-hourly market has).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "hems" / "data"
YEAR_START = datetime(2024, 2, 29, tzinfo=timezone.utc)
DAYS = 365
STEP_S = 900
N = DAYS * 96
IMPORT_ADDER_PER_KWH = 0.15


@dataclass(frozen=True)
class Year:
    start: datetime
    load_w: np.ndarray
    pv_w: np.ndarray
    spot_per_kwh: np.ndarray
    import_adder_per_kwh: float = IMPORT_ADDER_PER_KWH
    pv_site: tuple[float, float, float, float] = (48.83, 6.86, 35.0, 180.0)   # lat, lon, tilt, azimuth
    label: str = "French house, NL spot + 0.15"

    @property
    def import_price_per_kwh(self) -> np.ndarray:
        return self.spot_per_kwh + self.import_adder_per_kwh

    @property
    def export_price_per_kwh(self) -> np.ndarray:
        return self.spot_per_kwh


def _read(name: str) -> tuple[list[datetime], list[list[str]]]:
    with open(DATA / name, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    times = [datetime.fromisoformat(r[0]).astimezone(timezone.utc) for r in rows]
    return times, [r[1:] for r in rows]


def _fill(values: np.ndarray, night_gap: int | None) -> np.ndarray:
    """Interpolate NaN runs; runs longer than night_gap points become 0 (PV at night)."""
    out = values.copy()
    nan = np.isnan(out)
    idx = np.arange(len(out))
    if night_gap is not None:
        run_start = np.flatnonzero(nan & ~np.concatenate([[False], nan[:-1]]))
        for s in run_start:
            e = s
            while e < len(out) and nan[e]:
                e += 1
            if e - s > night_gap:
                out[s:e] = 0.0
        nan = np.isnan(out)
    out[nan] = np.interp(idx[nan], idx[~nan], out[~nan])
    return out


def _on_grid(times: list[datetime], values: np.ndarray, step_s: int) -> np.ndarray:
    """Values indexed by the benchmark year's 15-min intervals, each held for step_s seconds."""
    out = np.full(N, np.nan)
    per = step_s // STEP_S
    for t, v in zip(times, values):
        k = int((t - YEAR_START).total_seconds()) // STEP_S
        if -per < k < N:
            lo = max(k, 0)
            out[lo:k + per] = v
    return out


def load_year(pv: str = "fr", tariff: str = "spot") -> Year:
    """The benchmark year; pv "fr" or "piedmont", tariff "spot" or "v2g" (see the module doc)."""
    year = _french_year()
    if pv == "piedmont":
        year = replace(year, pv_w=_piedmont_pv_w(), pv_site=(45.0, 8.0, 35.0, 180.0),
                       label="French house load, Piedmont 6 kWp PV")
    elif pv != "fr":
        raise ValueError(f"pv: fr or piedmont, not {pv!r}")
    if tariff == "v2g":
        year = replace(year, spot_per_kwh=_quarter_hourly(year.spot_per_kwh), import_adder_per_kwh=0.10,
                       label=year.label.split(",")[0] + (", Piedmont PV" if pv == "piedmont" else "")
                       + ", 15-min spot + 0.10")
    elif tariff != "spot":
        raise ValueError(f"tariff: spot or v2g, not {tariff!r}")
    return year


def _piedmont_pv_w() -> np.ndarray:
    times, rows = _read("pv_6kwp_piedmont_tmy_hourly.csv")
    by_key = {(t.month, t.day, t.hour): max(float(r[0]), 0.0) for t, r in zip(times, rows)}
    out = np.empty(N)
    for k in range(0, N, 4):
        when = YEAR_START + timedelta(seconds=k * STEP_S)
        day = 28 if (when.month, when.day) == (2, 29) else when.day
        out[k:k + 4] = by_key[(when.month, day, when.hour)]
    return out


def _quarter_hourly(hourly_held: np.ndarray) -> np.ndarray:
    """Linear interpolation between hour midpoints of an hourly series held for 4 intervals."""
    hours = hourly_held[::4]
    mid = np.arange(len(hours)) * 4 + 1.5
    return np.interp(np.arange(len(hourly_held)), mid, hours)


def _french_year() -> Year:
    times, rows = _read("house_fr_2024_30min.csv")
    load = np.array([float(r[0]) if r[0] else np.nan for r in rows])
    pv = np.array([float(r[1]) if r[1] else np.nan for r in rows])
    load, pv = _fill(load, None), np.maximum(_fill(pv, 6), 0.0)
    load_w, pv_w = _on_grid(times, load, 1800), _on_grid(times, pv, 1800)
    for arr in (load_w, pv_w):
        for k in np.flatnonzero(np.isnan(arr)):
            arr[k] = arr[k - 96]
    p_times, p_rows = _read("nl_dayahead_2023_2024_hourly.csv")
    price = np.array([float(r[0]) for r in p_rows]) / 1000.0
    spot = _on_grid(p_times, price, 3600)
    missing = np.isnan(spot)
    earlier = _on_grid([t + timedelta(days=364) for t in p_times], price, 3600)
    spot[missing] = earlier[missing]
    for name, arr in (("load", load_w), ("pv", pv_w), ("price", spot)):
        if np.isnan(arr).any():
            raise RuntimeError(f"{name} has {int(np.isnan(arr).sum())} gaps in the benchmark year")
    return Year(YEAR_START, load_w, pv_w, spot)


if __name__ == "__main__":
    y = load_year()
    kwh = STEP_S / 3600 / 1000
    print(f"load {y.load_w.sum() * kwh:.0f} kWh/yr, pv {y.pv_w.sum() * kwh:.0f} kWh/yr, "
          f"spot mean {y.spot_per_kwh.mean():.4f} EUR/kWh, min {y.spot_per_kwh.min():.3f}, "
          f"max {y.spot_per_kwh.max():.3f}")
