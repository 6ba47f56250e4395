"""The hems store: one SQLite file, batched writes, thread-safe reads.

Writes go to memory first and reach the disk in one short transaction every `flush_interval_s`
(wall-clock seconds; default 60) or on close, so an SD card is not written every second.
Preferences are the exception: an owner's choice is committed at once. Reads see what has
been flushed.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from hems.domain import Plan, Setpoint, SiteState
from hems.domain.clock import Clock, SystemClock
from hems.store import history
from hems.store.db import Database, connect, migrate
from hems.store.migrations import MIGRATIONS, Migration
from hems.store.minute import MEAN_COLUMNS, ROW_COLUMNS, MinuteAccumulator, PriceFn, minute_of, sample_of

log = logging.getLogger(__name__)

MAX_PENDING_ROWS = 20_000      # if the disk refuses writes for hours, keep the newest rows only


def _upsert_measurements_sql() -> str:
    """Insert a minute; if that minute exists (a restart within it), merge by sample counts."""
    merged = []
    for c in MEAN_COLUMNS:
        merged.append(f"{c} = CASE WHEN excluded.{c} IS NULL THEN {c} WHEN {c} IS NULL THEN excluded.{c} "
                      f"ELSE ({c} * n + excluded.{c} * excluded.n) / (n + excluded.n) END")
    merged.append("soc_pct = COALESCE(excluded.soc_pct, soc_pct)")
    merged.append("cost = CASE WHEN excluded.cost IS NULL THEN cost WHEN cost IS NULL THEN excluded.cost "
                  "ELSE (cost * n + excluded.cost * excluded.n) / (n + excluded.n) END")
    merged.append("n = n + excluded.n")
    cols = ", ".join(ROW_COLUMNS)
    marks = ", ".join("?" for _ in ROW_COLUMNS)
    return f"INSERT INTO measurements ({cols}) VALUES ({marks}) ON CONFLICT(minute) DO UPDATE SET {', '.join(merged)}"


UPSERT_MEASUREMENTS = _upsert_measurements_sql()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Store(Database):
    """History, setpoints, events, preferences and the latest plan of one home."""

    def __init__(self, path: str | Path, flush_interval_s: float = 60.0, clock: Clock | None = None,
                 prices: PriceFn | None = None, monotonic: Callable[[], float] = time.monotonic,
                 migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self.clock = clock or SystemClock()
        self.prices = prices            # (import, export) price per kWh at a UTC minute, for the cost column
        self._monotonic = monotonic
        super().__init__(connect(self.path))   # transaction() and query() for other parts' tables
        self.schema_version = migrate(self._conn, migrations)
        self._minute: MinuteAccumulator | None = None
        self._rows: list[tuple] = []          # finished minutes
        self._setpoints: list[tuple] = []
        self._events: list[tuple] = []
        self._plan: tuple | None = None
        self._last_flush = monotonic()
        self.flush_count = 0
        self.last_error: str | None = None

    # --- writes (buffered) ---
    def add_measurement(self, state: SiteState) -> None:
        """Fold one site state into its UTC minute."""
        with self._lock:
            m = minute_of(state.at)
            if self._minute is not None and self._minute.minute != m:
                self._finish_minute()
            if self._minute is None:
                self._minute = MinuteAccumulator(m)
            self._minute.add(sample_of(state))
        self.maybe_flush()

    def add_setpoint(self, sp: Setpoint) -> None:
        with self._lock:
            self._setpoints.append((sp.at.timestamp(), float(sp.ev_power_w), sp.reason, ",".join(sp.clamped_by)))
        self.maybe_flush()

    def add_event(self, kind: str, message: str, who: str = "agent", at: datetime | None = None) -> None:
        """Something the owner or an installer may want to read later (kind: devices, preferences, ...)."""
        when = (at or self.clock.now()).timestamp()
        with self._lock:
            self._events.append((when, kind, message, who))
        self.maybe_flush()

    def add_plan(self, plan: Plan) -> None:
        """Keep the latest plan (only the newest is stored)."""
        summary = {"ev_w": plan.ev_w, "soc_pct": plan.soc_pct, "grid_w": plan.grid_w, "breakdown": plan.breakdown,
                   **plan.series()}
        row = (self.clock.now().timestamp(), plan.start.timestamp(), int(plan.interval_s), float(plan.cost),
               float(plan.solve_ms), float(plan.target_shortfall_pct), json.dumps(summary, default=_json_default))
        with self._lock:
            self._plan = row
        self.maybe_flush()

    def set_preferences(self, values: dict[str, Any], who: str) -> None:
        """Store each key's JSON value with who set it and when; committed at once."""
        at = self.clock.now().timestamp()
        rows = [(k, json.dumps(v, default=_json_default), who, at) for k, v in values.items()]
        with self.transaction() as c:
            c.executemany("INSERT INTO preferences (key, value_json, who, at) VALUES (?, ?, ?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, "
                          "who = excluded.who, at = excluded.at", rows)

    # --- flushing ---
    def pending(self) -> int:
        """Rows waiting in memory (the minute in progress not counted)."""
        with self._lock:
            return len(self._rows) + len(self._setpoints) + len(self._events) + (self._plan is not None)

    def maybe_flush(self) -> bool:
        """Flush if flush_interval_s has passed since the last one. Returns whether it flushed."""
        if self._monotonic() - self._last_flush < self.flush_interval_s:
            return False
        self.flush()
        return True

    def flush(self, include_current_minute: bool = False) -> int:
        """Write everything buffered in one transaction. Returns the rows written (0 on failure:
        the rows stay buffered, the error is logged and kept in `last_error`)."""
        with self._lock:
            self._last_flush = self._monotonic()
            if include_current_minute and self._minute is not None:
                self._finish_minute()
            rows, sps, evs, plan = self._rows, self._setpoints, self._events, self._plan
            count = len(rows) + len(sps) + len(evs) + (plan is not None)
            if count == 0:
                return 0
            try:
                self._write(rows, sps, evs, plan)
            except Exception as exc:   # disk full, I/O error: keep the data, keep the agent running
                self.last_error = f"store flush failed: {exc}"
                log.error("%s (%d rows kept in memory)", self.last_error, count)
                self._trim()
                return 0
            self._rows, self._setpoints, self._events, self._plan = [], [], [], None
            self.flush_count += 1
            self.last_error = None
            return count

    def _write(self, rows: list, sps: list, evs: list, plan: tuple | None) -> None:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(UPSERT_MEASUREMENTS, rows)
            c.executemany("INSERT INTO setpoints (at, ev_power_w, reason, clamped_by) VALUES (?, ?, ?, ?)", sps)
            c.executemany("INSERT INTO events (at, kind, message, who) VALUES (?, ?, ?, ?)", evs)
            if plan is not None:
                c.execute("INSERT OR REPLACE INTO plans (id, at, start, interval_s, cost, solve_ms, "
                          "target_shortfall_pct, summary_json) VALUES (1, ?, ?, ?, ?, ?, ?, ?)", plan)
            c.execute("COMMIT")
        except Exception:
            c.execute("ROLLBACK")
            raise

    def _finish_minute(self) -> None:
        acc, self._minute = self._minute, None
        if acc is None or acc.n == 0:
            return
        prices = None
        if self.prices is not None:
            try:
                prices = self.prices(datetime.fromtimestamp(acc.minute, tz=timezone.utc))
            except Exception as exc:
                log.warning("no price for %s: %s", acc.minute, exc)
        self._rows.append(acc.row(prices))

    def _trim(self) -> None:
        for name in ("_rows", "_setpoints", "_events"):
            buf = getattr(self, name)
            if len(buf) > MAX_PENDING_ROWS:
                log.warning("store: dropping %d oldest unsaved %s", len(buf) - MAX_PENDING_ROWS, name[1:])
                setattr(self, name, buf[-MAX_PENDING_ROWS:])

    def close(self) -> None:
        """Flush everything, the minute in progress too, and close the file."""
        with self._lock:
            self.flush(include_current_minute=True)
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except Exception as exc:
                log.warning("store checkpoint on close failed: %s", exc)
            self._conn.close()

    # --- reads ---
    def get_preferences(self) -> dict[str, Any]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value_json FROM preferences ORDER BY key").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def preference_log(self) -> list[dict[str, Any]]:
        """Each key with its value, who set it and when."""
        with self._lock:
            rows = self._conn.execute("SELECT key, value_json, who, at FROM preferences ORDER BY at").fetchall()
        return [{"key": k, "value": json.loads(v), "who": w, "at": _utc(a)} for k, v, w, a in rows]

    def events(self, since: datetime | None = None, limit: int = 100, kind: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        sql, args = "SELECT id, at, kind, message, who FROM events WHERE at >= ?", [since.timestamp() if since else 0.0]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
        return [{"id": i, "at": _utc(a), "kind": k, "message": m, "who": w} for i, a, k, m, w in rows]

    def setpoints(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT at, ev_power_w, reason, clamped_by FROM setpoints "
                                      "WHERE at >= ? AND at < ? ORDER BY at, id",
                                      (start.timestamp(), end.timestamp())).fetchall()
        return [{"at": _utc(a), "ev_power_w": p, "reason": r, "clamped_by": tuple(c.split(",")) if c else ()}
                for a, p, r, c in rows]

    def latest_plan(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT at, start, interval_s, cost, solve_ms, target_shortfall_pct, "
                                     "summary_json FROM plans WHERE id = 1").fetchone()
        if row is None:
            return None
        at, start, interval_s, cost, solve_ms, shortfall, summary = row
        return {"at": _utc(at), "start": _utc(start), "interval_s": interval_s, "cost": cost,
                "solve_ms": solve_ms, "target_shortfall_pct": shortfall, **json.loads(summary)}

    def measurements(self, start: datetime, end: datetime) -> dict[str, np.ndarray]:
        """Per-minute history in [start, end): 'time' (datetime64[s], UTC) and one float array
        per column (NaN where a device gave nothing)."""
        with self._lock:
            return history.minutes(self._conn, start, end)

    def means(self, start: datetime, end: datetime, step_s: int,
              columns: tuple[str, ...] = ("pv_w", "load_w")) -> dict[str, np.ndarray]:
        """History averaged per `step_s` (e.g. 900 for 15 min): 'time' and one array per column."""
        with self._lock:
            return history.means(self._conn, start, end, step_s, columns)

    def energy_by_day(self, tz: str | ZoneInfo, start: date, end: date) -> list[dict[str, Any]]:
        """Energy (kWh) and cost per local day in [start, end)."""
        with self._lock:
            return history.energy(self._conn, _zone(tz), start, end, by="day")

    def energy_by_month(self, tz: str | ZoneInfo, start: date, end: date) -> list[dict[str, Any]]:
        """Energy (kWh) and cost per local month for the days in [start, end)."""
        with self._lock:
            return history.energy(self._conn, _zone(tz), start, end, by="month")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
