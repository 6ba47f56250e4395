"""The schema, as an ordered list of migrations. PRAGMA user_version = how many are applied.

To add tables for your part of hems, append a Migration at the end with the next version number.
Never edit, remove or reorder one that has shipped: databases in the field have applied it.
A migration is a tuple of SQL statements, or a function taking the open connection (for data
changes); it runs inside one transaction together with the user_version bump.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable, Union

Step = Union[tuple[str, ...], Callable[[sqlite3.Connection], None]]


@dataclass(frozen=True)
class Migration:
    version: int          # 1, 2, 3, ... in list order
    name: str             # what it does, for the log
    step: Step


MIGRATIONS: list[Migration] = [
    Migration(1, "measurements per minute, setpoints, events, preferences, latest plan", (
        # Per UTC minute (unix seconds of its start): mean powers in W over the samples of that
        # minute, split by sign where energy is counted per direction; last SoC; cost of the
        # minute's grid exchange when prices were known. n = number of samples.
        """CREATE TABLE measurements (
            minute INTEGER PRIMARY KEY,
            n INTEGER NOT NULL,
            grid_w REAL, import_w REAL, export_w REAL,
            pv_w REAL,
            ev_w REAL, ev_charge_w REAL, ev_discharge_w REAL,
            load_w REAL,
            soc_pct REAL,
            cost REAL
        )""",
        """CREATE TABLE setpoints (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            ev_power_w REAL NOT NULL,
            reason TEXT NOT NULL,
            clamped_by TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX setpoints_at ON setpoints(at)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            who TEXT NOT NULL
        )""",
        "CREATE INDEX events_at ON events(at)",
        """CREATE TABLE preferences (
            key TEXT PRIMARY KEY,
            value_json TEXT NOT NULL,
            who TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            at REAL NOT NULL,
            start REAL NOT NULL,
            interval_s INTEGER NOT NULL,
            cost REAL NOT NULL,
            solve_ms REAL NOT NULL,
            target_shortfall_pct REAL NOT NULL,
            summary_json TEXT NOT NULL
        )""",
    )),
    Migration(2, "aggregator link: sequence numbers, dispatch log, events, metering, settlement outbox", (
        # hems.aggregator.ledger: last accepted seq per sender (replay guard)
        "CREATE TABLE agg_seq (sender TEXT PRIMARY KEY, seq INTEGER NOT NULL, at REAL NOT NULL)",
        # every dispatch and its answer (accepted, modified, rejected, refused, done)
        """CREATE TABLE agg_log (
            id INTEGER PRIMARY KEY, at REAL NOT NULL, msg_id TEXT, kind TEXT,
            status TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL
        )""",
        "CREATE INDEX agg_log_at ON agg_log(at)",
        # accepted events/regulations: window, committed EV band (W), baseline JSON, state
        """CREATE TABLE agg_events (
            event_id TEXT PRIMARY KEY, kind TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL,
            min_ev_w REAL NOT NULL, max_ev_w REAL NOT NULL, priority INTEGER NOT NULL,
            baseline_json TEXT NOT NULL, state TEXT NOT NULL, cancelled_at REAL
        )""",
        # metered Wh per event and baseline interval k
        """CREATE TABLE agg_meter (
            event_id TEXT NOT NULL, k INTEGER NOT NULL, ev_wh REAL NOT NULL, grid_wh REAL NOT NULL,
            metered_s REAL NOT NULL, PRIMARY KEY (event_id, k)
        )""",
        # settlement messages until the broker acknowledged them
        """CREATE TABLE agg_outbox (
            event_id TEXT PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,
            created_at REAL NOT NULL, sent_count INTEGER NOT NULL DEFAULT 0, acked_at REAL
        )""",
    )),
    Migration(3, "web UI: users, sessions, audit log, settings", (
        # hems.web.db: the owner's account (scrypt hash only; no default password exists)
        """CREATE TABLE web_users (
            id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin')), created_at TEXT NOT NULL
        )""",
        # login sessions: SHA-256 of the cookie token, the CSRF token, expiry (ISO UTC)
        """CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL
        )""",
        "CREATE INDEX web_sessions_user ON web_sessions(user_id)",
        # every change made through the web UI: who, when, what (JSON), from where
        """CREATE TABLE web_audit (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL, remote TEXT
        )""",
        "CREATE INDEX web_audit_at ON web_audit(at)",
        # the owner's settings from the web UI (weekly schedule, overrides of the config), JSON values
        """CREATE TABLE web_settings (
            key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL
        )""",
    )),
]
