"""Explicit loaders for the CSV files forecasts learn from (the only I/O in hems.forecast)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hems.forecast.timeutil import as_datetime64

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def _parse_times(texts: list[str]) -> np.ndarray:
    # "2024-02-28 21:00:00+00:00" -> UTC datetime64[s]; only UTC ("+00:00" or "Z") is accepted
    out = []
    for s in texts:
        s = s.strip().replace("T", " ")
        if s.endswith("Z"):
            s = s[:-1]
        elif s.endswith("+00:00"):
            s = s[:-6]
        elif len(s) > 19:
            raise ValueError(f"time {s!r} is not UTC")
        out.append(s.replace(" ", "T"))
    return np.array(out, dtype="datetime64[s]")


def load_prices_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(times datetime64[s] UTC, spot price per kWh) from a CSV with a UTC time column and a price
    column; a column named *_per_mwh is converted from per MWh to per kWh."""
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    if len(header) < 2:
        raise ValueError(f"{path}: expected a time column and a price column, got {header}")
    times = _parse_times([r[0] for r in body])
    price = np.array([float(r[1]) if r[1] else np.nan for r in body])
    if "mwh" in header[1].lower():
        price = price / 1000.0
    order = np.argsort(times)
    return times[order], price[order]


def load_house_csv(path: str | Path = DATA_DIR / "house_fr_2024_30min.csv") -> dict[str, np.ndarray]:
    """{'time': datetime64[s] UTC, 'load_w': ..., 'pv_w': ...} (NaN for gaps)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        names = [n for n in reader.fieldnames or [] if n != "time_utc"]
    out = {"time": _parse_times([r["time_utc"] for r in rows])}
    for n in names:
        out[n] = np.array([float(r[n]) if r[n] not in ("", "nan", "NaN") else np.nan for r in rows])
    return out


__all__ = ["DATA_DIR", "as_datetime64", "load_house_csv", "load_prices_csv"]
