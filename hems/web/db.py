"""The web UI's own tables in the hems SQLite database: users, sessions, audit log, settings.

Stdlib sqlite3; every query is small and indexed, so it runs inline on the event loop.
Times are stored as ISO 8601 UTC strings; secrets only as hashes.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin')),
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions(user_id);
CREATE TABLE IF NOT EXISTS web_audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    who     TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    remote  TEXT
);
CREATE INDEX IF NOT EXISTS web_audit_at ON web_audit(at);
CREATE TABLE IF NOT EXISTS web_settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def _ts(when: datetime) -> str:
    return when.isoformat()


class WebDb:
    """Users, sessions, audit and settings on one sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.conn.executescript(SCHEMA)
        self.conn.commit()

    @classmethod
    def open(cls, path: str) -> "WebDb":
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn)

    # users -------------------------------------------------------------
    def user_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM web_users").fetchone()[0]

    def create_first_admin(self, username: str, password_hash: str, now: datetime) -> User | None:
        """Create the admin only while no user exists (atomic); None when one already does."""
        cur = self.conn.execute(
            "INSERT INTO web_users (username, password_hash, role, created_at) "
            "SELECT ?, ?, 'admin', ? WHERE NOT EXISTS (SELECT 1 FROM web_users)",
            (username, password_hash, _ts(now)),
        )
        self.conn.commit()
        if cur.rowcount != 1:
            return None
        return User(cur.lastrowid, username, "admin")

    def user_by_name(self, username: str) -> tuple[User, str] | None:
        row = self.conn.execute(
            "SELECT id, username, role, password_hash FROM web_users WHERE username = ?", (username,)
        ).fetchone()
        return (User(row[0], row[1], row[2]), row[3]) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.conn.execute("UPDATE web_users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        self.conn.commit()

    # sessions ----------------------------------------------------------
    def add_session(self, token_hash: str, user: User, csrf_token: str, now: datetime, expires: datetime) -> None:
        self.conn.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?,?,?,?,?)",
            (token_hash, user.id, csrf_token, _ts(now), _ts(expires)),
        )
        self.conn.commit()

    def session(self, token_hash: str, now: datetime) -> Session | None:
        row = self.conn.execute(
            "SELECT u.id, u.username, u.role, s.csrf_token, s.expires_at FROM web_sessions s "
            "JOIN web_users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        ).fetchone()
        if row is None:
            return None
        expires = datetime.fromisoformat(row[4])
        if expires <= now:
            self.drop_session(token_hash)
            return None
        return Session(User(row[0], row[1], row[2]), row[3], expires)

    def drop_session(self, token_hash: str) -> None:
        self.conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))
        self.conn.commit()

    def drop_sessions_of(self, user_id: int, keep: str | None = None) -> None:
        self.conn.execute(
            "DELETE FROM web_sessions WHERE user_id = ? AND token_hash IS NOT ?", (user_id, keep)
        )
        self.conn.commit()

    def purge_expired(self, now: datetime) -> int:
        cur = self.conn.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (_ts(now),))
        self.conn.commit()
        return cur.rowcount

    # audit -------------------------------------------------------------
    def audit(self, now: datetime, who: str, action: str, detail: dict[str, Any], remote: str | None) -> None:
        self.conn.execute(
            "INSERT INTO web_audit (at, who, action, detail, remote) VALUES (?,?,?,?,?)",
            (_ts(now), who, action, json.dumps(detail, sort_keys=True), remote),
        )
        self.conn.commit()

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT at, who, action, detail, remote FROM web_audit ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"at": r[0].replace("+00:00", "Z"), "who": r[1], "action": r[2], "detail": json.loads(r[3]), "remote": r[4]}
            for r in rows
        ]

    # settings ----------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM web_settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put_setting(self, key: str, value: Any, now: datetime, who: str) -> None:
        self.conn.execute(
            "INSERT INTO web_settings (key, value, updated_at, updated_by) VALUES (?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            (key, json.dumps(value, sort_keys=True), _ts(now), who),
        )
        self.conn.commit()
