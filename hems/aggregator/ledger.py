"""What the aggregator link must not forget across restarts, in the home's SQLite store.

Tables (created by migration 2 in hems/store/migrations.py):
  agg_seq        last accepted sequence number per sender (replay guard)
  agg_log        every dispatch and the answer it got (accepted, modified, rejected, refused, done)
  agg_events     accepted events and regulations with their baseline, for settlement
  agg_meter      metered energy per event and baseline interval (saved as the event runs)
  agg_outbox     settlement messages until the broker acknowledged them (QoS 1 PUBACK)

Writes go through `store.transaction()` and commit at once (synchronous=FULL): the link writes
few rows (one per dispatch, a meter save every ~30 s during an event), and a settlement or a
sequence number must never be lost.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class EventRecord:
    """An accepted event or regulation as settlement needs it."""
    event_id: str
    kind: str
    start: datetime
    end: datetime
    min_ev_w: float
    max_ev_w: float
    priority: int
    baseline: dict[str, Any]      # {"start": iso, "interval_s": int, "ev_w": [...]} from the plan
    state: str                    # active | cancelled | settled
    cancelled_at: datetime | None = None


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)


class Ledger:
    """The link's durable state, on a hems.store.Store (anything with transaction() and query())."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def _write(self, sql: str, args: tuple = ()) -> None:
        with self.store.transaction() as conn:
            conn.execute(sql, args)

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self.store.query(sql, args)

    # --- sequence numbers ---
    def last_seq(self, sender: str) -> int:
        rows = self._read("SELECT seq FROM agg_seq WHERE sender = ?", (sender,))
        return int(rows[0][0]) if rows else 0

    def set_seq(self, sender: str, seq: int, at: datetime) -> None:
        self._write("INSERT INTO agg_seq(sender, seq, at) VALUES (?, ?, ?) "
                    "ON CONFLICT(sender) DO UPDATE SET seq = MAX(seq, excluded.seq), at = excluded.at",
                    (sender, int(seq), _ts(at)))

    def record_dispatch(self, at: datetime, seq: int | None, msg_id: str | None, kind: str | None,
                        status: str, code: str, reason: str) -> None:
        """The answer to one dispatch and (when it was read) its seq, in one commit."""
        with self.store.transaction() as conn:
            if seq is not None:
                conn.execute("INSERT INTO agg_seq(sender, seq, at) VALUES ('aggregator', ?, ?) "
                             "ON CONFLICT(sender) DO UPDATE SET seq = MAX(seq, excluded.seq), at = excluded.at",
                             (int(seq), _ts(at)))
            conn.execute("INSERT INTO agg_log(at, msg_id, kind, status, code, reason) VALUES (?,?,?,?,?,?)",
                         (_ts(at), msg_id, kind, status, code, reason[:500]))

    def settle(self, event_id: str, per_k: dict[int, tuple[float, float, float]], topic: str,
               payload: bytes, at: datetime, cancelled_at: datetime | None) -> None:
        """Final metering, the settlement message in the outbox and the event marked settled,
        in one commit."""
        with self.store.transaction() as conn:
            self._meter_rows(conn, event_id, per_k)
            conn.execute("INSERT OR IGNORE INTO agg_outbox(event_id, topic, payload, created_at) "
                         "VALUES (?,?,?,?)", (event_id, topic, payload, _ts(at)))
            conn.execute("UPDATE agg_events SET state = 'settled', cancelled_at = COALESCE(?, cancelled_at) "
                         "WHERE event_id = ?", (_ts(cancelled_at) if cancelled_at else None, event_id))

    # --- dispatch log ---
    def log(self, at: datetime, msg_id: str | None, kind: str | None, status: str, code: str,
            reason: str) -> None:
        self._write("INSERT INTO agg_log(at, msg_id, kind, status, code, reason) VALUES (?,?,?,?,?,?)",
                    (_ts(at), msg_id, kind, status, code, reason[:500]))

    def recent_log(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._read("SELECT at, msg_id, kind, status, code, reason FROM agg_log "
                          "ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(at=_dt(r[0]), msg_id=r[1], kind=r[2], status=r[3], code=r[4], reason=r[5])
                for r in rows]

    # --- events ---
    def add_event(self, rec: EventRecord) -> None:
        self._write("INSERT OR REPLACE INTO agg_events(event_id, kind, start, end, min_ev_w, max_ev_w, "
                    "priority, baseline_json, state, cancelled_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (rec.event_id, rec.kind, _ts(rec.start), _ts(rec.end), rec.min_ev_w, rec.max_ev_w,
                     rec.priority, json.dumps(rec.baseline), rec.state,
                     _ts(rec.cancelled_at) if rec.cancelled_at else None))

    def events(self, state: str | None = None) -> list[EventRecord]:
        sql = ("SELECT event_id, kind, start, end, min_ev_w, max_ev_w, priority, baseline_json, state, "
               "cancelled_at FROM agg_events")
        rows = self._read(sql + (" WHERE state = ?" if state else "") + " ORDER BY start",
                          (state,) if state else ())
        return [EventRecord(r[0], r[1], _dt(r[2]), _dt(r[3]), r[4], r[5], r[6], json.loads(r[7]), r[8],
                            _dt(r[9])) for r in rows]

    def event(self, event_id: str) -> EventRecord | None:
        found = [e for e in self.events() if e.event_id == event_id]
        return found[0] if found else None

    def set_event_state(self, event_id: str, state: str, cancelled_at: datetime | None = None) -> None:
        self._write("UPDATE agg_events SET state = ?, cancelled_at = COALESCE(?, cancelled_at) "
                    "WHERE event_id = ?", (state, _ts(cancelled_at) if cancelled_at else None, event_id))

    # --- metering ---
    def save_meter(self, event_id: str, per_k: dict[int, tuple[float, float, float]]) -> None:
        with self.store.transaction() as conn:
            self._meter_rows(conn, event_id, per_k)

    @staticmethod
    def _meter_rows(conn: Any, event_id: str, per_k: dict[int, tuple[float, float, float]]) -> None:
        for k, (ev_wh, grid_wh, metered_s) in per_k.items():
            conn.execute("INSERT INTO agg_meter(event_id, k, ev_wh, grid_wh, metered_s) "
                         "VALUES (?,?,?,?,?) ON CONFLICT(event_id, k) DO UPDATE SET "
                         "ev_wh = excluded.ev_wh, grid_wh = excluded.grid_wh, "
                         "metered_s = excluded.metered_s", (event_id, k, ev_wh, grid_wh, metered_s))

    def meter(self, event_id: str) -> dict[int, tuple[float, float, float]]:
        rows = self._read("SELECT k, ev_wh, grid_wh, metered_s FROM agg_meter WHERE event_id = ?", (event_id,))
        return {int(r[0]): (r[1], r[2], r[3]) for r in rows}

    # --- settlement outbox ---
    def enqueue(self, event_id: str, topic: str, payload: bytes, at: datetime) -> None:
        self._write("INSERT OR IGNORE INTO agg_outbox(event_id, topic, payload, created_at) VALUES (?,?,?,?)",
                    (event_id, topic, payload, _ts(at)))

    def unacked(self) -> list[tuple[str, str, bytes]]:
        return [(r[0], r[1], bytes(r[2])) for r in
                self._read("SELECT event_id, topic, payload FROM agg_outbox WHERE acked_at IS NULL "
                           "ORDER BY created_at")]

    def mark_acked(self, event_id: str, at: datetime) -> None:
        self._write("UPDATE agg_outbox SET acked_at = ? WHERE event_id = ? AND acked_at IS NULL",
                    (_ts(at), event_id))

    def outbox(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT event_id, topic, payload, created_at, sent_count, acked_at FROM agg_outbox "
                          "ORDER BY created_at")
        return [dict(event_id=r[0], topic=r[1], payload=bytes(r[2]), created_at=_dt(r[3]),
                     sent_count=r[4], acked_at=_dt(r[5])) for r in rows]
