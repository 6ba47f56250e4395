"""Read-side queries: per-minute series and per-day / per-month energy sums."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.store.minute import MEAN_COLUMNS

ENERGY_KEYS = ("import_kwh", "export_kwh", "pv_kwh", "ev_charge_kwh", "ev_discharge_kwh", "load_kwh")
_ENERGY_SOURCES = ("import_w", "export_w", "pv_w", "ev_charge_w", "ev_discharge_w", "load_w")
BUCKET_S = 900   # every time zone offset in use is a multiple of 15 min


def minutes(conn: sqlite3.Connection, start: datetime, end: datetime) -> dict[str, np.ndarray]:
    cols = ("minute", *MEAN_COLUMNS, "soc_pct", "cost")
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM measurements WHERE minute >= ? AND minute < ? "
                        "ORDER BY minute", (start.timestamp(), end.timestamp())).fetchall()
    data = np.array(rows, dtype=float).reshape(len(rows), len(cols))   # None -> nan
    out = {"time": data[:, 0].astype("int64").astype("datetime64[s]")}
    for i, c in enumerate(cols[1:], start=1):
        out[c] = data[:, i]
    return out


def means(conn: sqlite3.Connection, start: datetime, end: datetime, step_s: int,
          columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Means per `step_s` bucket (aligned to the epoch) in [start, end), averaged in SQL so a
    month of minutes costs a few thousand rows; 'time' is each bucket's start (datetime64[s])."""
    bad = [c for c in columns if c not in MEAN_COLUMNS and c != "soc_pct"]
    if bad or step_s <= 0:
        raise ValueError(f"cannot average {bad or step_s!r}")
    avgs = ", ".join(f"AVG({c})" for c in columns)
    rows = conn.execute(f"SELECT minute - minute % {int(step_s)}, {avgs} FROM measurements "
                        "WHERE minute >= ? AND minute < ? GROUP BY 1 ORDER BY 1",
                        (start.timestamp(), end.timestamp())).fetchall()
    data = np.array(rows, dtype=float).reshape(len(rows), len(columns) + 1)
    out = {"time": data[:, 0].astype("int64").astype("datetime64[s]")}
    for i, c in enumerate(columns, start=1):
        out[c] = data[:, i]
    return out


def energy(conn: sqlite3.Connection, tz: ZoneInfo, start: date, end: date, by: str) -> list[dict[str, Any]]:
    """Sums per local day or month. A minute's energy is its mean power times one minute."""
    t0 = datetime.combine(start, time(0), tz).astimezone(timezone.utc).timestamp()
    t1 = datetime.combine(end, time(0), tz).astimezone(timezone.utc).timestamp()
    sums = ", ".join(f"TOTAL({c})" for c in _ENERGY_SOURCES)
    rows = conn.execute(f"SELECT minute - minute % {BUCKET_S}, {sums}, TOTAL(cost), COUNT(cost), COUNT(*) "
                        f"FROM measurements WHERE minute >= ? AND minute < ? GROUP BY 1 ORDER BY 1",
                        (t0, t1)).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for bucket, *vals in rows:
        local = datetime.fromtimestamp(bucket, tz=timezone.utc).astimezone(tz).date()
        key = local.isoformat() if by == "day" else local.strftime("%Y-%m")
        acc = out.setdefault(key, {by: key, **{k: 0.0 for k in ENERGY_KEYS}, "cost": 0.0,
                                   "priced_minutes": 0, "minutes": 0})
        for k, v in zip(ENERGY_KEYS, vals[:6]):
            acc[k] += v / 60.0 / 1000.0
        acc["cost"] += vals[6]
        acc["priced_minutes"] += vals[7]
        acc["minutes"] += vals[8]
    return list(out.values())


