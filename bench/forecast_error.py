"""Forecast error of the hems forecasters on real data, against naive persistence.

Data: hems/data/house_fr_2024_30min.csv (a house in north-east France, 48.83 N 6.86 E: load
and PV, 30 min, 2024-02-28 .. 2025-02-27) and hems/data/nl_dayahead_2023_2024_hourly.csv.
Forecasts are issued every 6 h for the next 48 h from the history before the issue time only.

PV: the array's orientation is not published. The model assumes south, 35 deg tilt and a peak
of max(measured) / derate; `--fit` also grid-searches tilt and azimuth on the first 60 days
(by forecast MAE) and scores the rest with the fitted orientation.
Persistence: PV and load, the value at the same time of day on the last observed day; prices,
the same hour of the last published day. Skill = 1 - error / persistence error.
Prices are scored only beyond what the market had published at the issue time.

Run: .venv/bin/python bench/forecast_error.py [--fit]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hems.forecast import (PvSite, clear_sky_pv_w, dayahead_known_until, load_forecast_w,  # noqa: E402
                           load_house_csv, load_prices_csv, pv_forecast_w, spot_price_forecast, utc_seconds)
from hems.forecast.data import DATA_DIR  # noqa: E402

TZ = "Europe/Paris"
STEP_S = 1800
HORIZON = 96            # 48 h of 30 min
ISSUE_EVERY = 12        # every 6 h
WARMUP = 14 * 48        # two weeks of history before the first forecast
PV_HISTORY = 14 * 48
LOAD_HISTORY = 56 * 48


def _persistence(values: np.ndarray, i: int, n: int, per_day: int) -> np.ndarray:
    """Same time of day on the last day fully before index i."""
    lead = np.arange(n)
    back = (lead // per_day + 1) * per_day
    return values[i + lead - back]


def _day_mean(values: np.ndarray, i: int, n: int, days: int) -> np.ndarray:
    """Mean of the same time of day over the last `days` days fully before index i (NaN ignored)."""
    lead = np.arange(n)
    back = (lead // 48 + 1) * 48
    stack = np.stack([values[i + lead - back - 48 * d] for d in range(days)])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(stack, axis=0)


def _metrics(pred: list, naive: list, truth: list) -> dict[str, float]:
    p, q, y = (np.concatenate(a) for a in (pred, naive, truth))
    ok = np.isfinite(y) & np.isfinite(p) & np.isfinite(q)
    p, q, y = p[ok], q[ok], y[ok]
    mae, rmse = np.mean(np.abs(p - y)), np.sqrt(np.mean((p - y) ** 2))
    mae_n, rmse_n = np.mean(np.abs(q - y)), np.sqrt(np.mean((q - y) ** 2))
    return {"n": int(ok.sum()), "mae": mae, "rmse": rmse, "mae_naive": mae_n, "rmse_naive": rmse_n,
            "skill_mae": 1 - mae / mae_n, "skill_rmse": 1 - rmse / rmse_n, "mean": float(np.mean(y))}


def _pv_truth(house: dict, site: PvSite) -> np.ndarray:
    pv = house["pv_w"].copy()
    night = clear_sky_pv_w(house["time"], site) <= 0
    pv[night & ~np.isfinite(pv)] = 0.0          # the logger leaves nights empty
    return pv


def evaluate_pv(house: dict, site: PvSite, start: int = WARMUP, stop: int | None = None) -> tuple[dict, float, dict]:
    pv = _pv_truth(house, site)
    t = house["time"]
    stop = stop or len(t) - HORIZON
    pred, naive, truth, mean3 = [], [], [], []
    elapsed = 0.0
    for i in range(max(start, 3 * 48), stop, ISSUE_EVERY):
        h = slice(max(0, i - PV_HISTORY), i)
        t0 = time.perf_counter()
        pred.append(pv_forecast_w(t[i:i + HORIZON], site, t[h], pv[h]))
        elapsed += time.perf_counter() - t0
        naive.append(_persistence(pv, i, HORIZON, 48))
        mean3.append(_day_mean(pv, i, HORIZON, 3))
        truth.append(pv[i:i + HORIZON])
    return (_metrics(pred, naive, truth), elapsed / len(pred) * 1000, _metrics(mean3, naive, truth))


def evaluate_load(house: dict, start: int = WARMUP) -> tuple[dict, float, dict[str, dict]]:
    load, t = house["load_w"], house["time"]
    pred, naive, truth, week, mean7 = [], [], [], [], []
    elapsed = 0.0
    for i in range(max(start, 8 * 48), len(t) - HORIZON, ISSUE_EVERY):
        h = slice(max(0, i - LOAD_HISTORY), i)
        t0 = time.perf_counter()
        pred.append(load_forecast_w(t[i:i + HORIZON], TZ, t[h], load[h]))
        elapsed += time.perf_counter() - t0
        naive.append(_persistence(load, i, HORIZON, 48))
        week.append(_persistence(load, i, HORIZON, 7 * 48))
        mean7.append(_day_mean(load, i, HORIZON, 7))
        truth.append(load[i:i + HORIZON])
    return (_metrics(pred, naive, truth), elapsed / len(pred) * 1000,
            {"same time last week": _metrics(week, naive, truth), "mean of the last 7 days": _metrics(mean7, naive, truth)})


def evaluate_prices(times: np.ndarray, price: np.ndarray) -> tuple[dict, float]:
    ts = utc_seconds(times)
    first = datetime(2024, 1, 8, tzinfo=timezone.utc).timestamp()
    last = datetime(2024, 12, 29, tzinfo=timezone.utc).timestamp()
    pred, naive, truth = [], [], []
    t0 = time.perf_counter()
    calls = 0
    for issue in np.arange(first, last, 6 * 3600.0):
        known_end = dayahead_known_until(datetime.fromtimestamp(issue, timezone.utc)).timestamp()
        grid = issue + 900.0 * np.arange(192)                     # 48 h at 15 min, as the planner asks
        unknown = grid >= known_end
        kmask = (ts >= known_end - 14 * 86400) & (ts < known_end)
        f = spot_price_forecast(grid, times[kmask], price[kmask], tz="Europe/Amsterdam")
        idx = np.searchsorted(ts, grid, side="right") - 1
        y = price[idx]
        day_back = np.ceil((grid - known_end + 1) / 86400.0) * 86400.0
        q = price[np.searchsorted(ts, grid - day_back, side="right") - 1]
        pred.append(f[unknown])
        naive.append(q[unknown])
        truth.append(y[unknown])
        calls += 1
    return _metrics(pred, naive, truth), (time.perf_counter() - t0) / calls * 1000


def fit_orientation(house: dict, peak_w: float) -> PvSite:
    """Grid search on the first 60 days (after warm-up) by forecast MAE."""
    best = None
    for tilt in (15, 25, 35, 45):
        for az in (120, 150, 180, 210, 240):
            site = PvSite(48.83, 6.86, peak_w, tilt, az)
            m, _, _ = evaluate_pv(house, site, WARMUP, WARMUP + 60 * 48)
            if best is None or m["mae"] < best[0]:
                best = (m["mae"], site)
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", action="store_true", help="also fit the PV orientation on the first 60 days")
    args = ap.parse_args()
    house = load_house_csv(DATA_DIR / "house_fr_2024_30min.csv")
    times, price = load_prices_csv(DATA_DIR / "nl_dayahead_2023_2024_hourly.csv")
    peak_w = float(np.nanmax(house["pv_w"])) / 0.85
    rows = []
    site = PvSite(48.83, 6.86, peak_w, 35.0, 180.0)
    m, ms, mean3 = evaluate_pv(house, site)
    rows.append(("PV, south 35 deg (assumed)", "W", m, ms))
    rows.append(("  reference: PV mean of the last 3 days", "W", mean3, 0.0))
    if args.fit:
        fitted = fit_orientation(house, peak_w)
        m, ms, _ = evaluate_pv(house, fitted, WARMUP + 60 * 48)
        rows.append((f"PV, fitted tilt {fitted.tilt_deg:g} az {fitted.azimuth_deg:g} (after fit window)", "W", m, ms))
        m, ms, _ = evaluate_pv(house, site, WARMUP + 60 * 48)
        rows.append(("PV, south 35 deg, same window", "W", m, ms))
    m, ms, refs = evaluate_load(house)
    rows.append(("house load", "W", m, ms))
    for name, ref in refs.items():
        rows.append((f"  reference: load {name}", "W", ref, 0.0))
    m, ms = evaluate_prices(times, price)
    rows.append(("spot price beyond published (2024)", "EUR/kWh", m, ms))
    print(f"{'forecaster':58} {'unit':8} {'n':>7} {'mean':>8} {'MAE':>8} {'RMSE':>8} {'MAE naive':>9} "
          f"{'RMSE naive':>10} {'skill MAE':>9} {'skill RMSE':>10} {'ms/call':>8}")
    for name, unit, m, ms in rows:
        fmt = ".4f" if unit == "EUR/kWh" else ".0f"
        print(f"{name:58} {unit:8} {m['n']:7d} {m['mean']:8{fmt}} {m['mae']:8{fmt}} {m['rmse']:8{fmt}} "
              f"{m['mae_naive']:9{fmt}} {m['rmse_naive']:10{fmt}} {m['skill_mae']:9.1%} {m['skill_rmse']:10.1%} "
              f"{ms:8.2f}")
    print("horizon 48 h, issued every 6 h; persistence = same time on the last observed (published) day")


if __name__ == "__main__":
    main()
