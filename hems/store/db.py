"""Open the SQLite file (WAL, durable commits) and bring its schema up to date."""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

from hems.store.migrations import MIGRATIONS, Migration

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used (newer schema than this hems, corrupt file, bad migration list)."""


class Database:
    """One connection behind one lock: short write transactions and reads, from the event loop
    and worker threads alike. The Store and the web UI's in-memory stand-in both build on it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`with db.transaction() as c: c.execute(...)`: commits at the end of the block,
        rolls back on an exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                rollback(self._conn)
                raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Read rows from any table."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # the owner's settings (JSON values by key; table from migration 3) -------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM web_settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def put_setting(self, key: str, value: Any, now: datetime, who: str) -> None:
        """Committed at once, with who changed it and when."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO web_settings (key, value, updated_at, updated_by) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (key, json.dumps(value, sort_keys=True), now.isoformat(), who))

    def copy_to(self, dest: sqlite3.Connection) -> None:
        """A consistent copy of the whole database into dest, with SQLite's online backup API
        (for hems.backup: the agent keeps running)."""
        with self._lock:
            self._conn.backup(dest)

    def replace_from(self, src: sqlite3.Connection) -> None:
        """Replace the whole database by the one open in src, with the online backup API, in
        place (other readers see the old or the new database, never a mix)."""
        with self._lock:
            src.backup(self._conn)


def rollback(conn: sqlite3.Connection) -> None:
    """Undo an open transaction. SQLite has already rolled back by itself after some errors
    (a full disk, an I/O error): then there is nothing to undo, and the caller's exception, the
    real cause, must not be replaced by "cannot rollback - no transaction is active"."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.warning("rollback failed: %s", exc)


def connect(path: str | Path) -> sqlite3.Connection:
    """One connection for the whole process, usable from the loop and the planner thread
    (callers serialise access with a lock). Autocommit mode: transactions are explicit."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")   # a commit survives a power cut; commits are rare (batched)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the database has not seen, each in its own transaction.
    Idempotent. Returns the schema version."""
    for i, m in enumerate(migrations, start=1):
        if m.version != i:
            raise StoreError(f"migration {m.name!r} has version {m.version}, expected {i} (versions count up from 1)")
    current = schema_version(conn)
    if current > len(migrations):
        raise StoreError(f"database schema version {current} is newer than this hems knows "
                         f"({len(migrations)}); upgrade hems or use another data_dir")
    for m in migrations[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if callable(m.step):
                m.step(conn)
            else:
                for sql in m.step:
                    conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {m.version:d}")
            conn.execute("COMMIT")
        except Exception as exc:
            rollback(conn)
            raise StoreError(f"migration {m.version} ({m.name}) failed: {exc}") from exc
        log.info("store schema migrated to version %d: %s", m.version, m.name)
    return schema_version(conn)
