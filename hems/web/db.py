"""The web UI's tables in the hems store: users, sessions, audit log, settings.

The tables come from the store's migration 3 (hems/store/migrations.py). Writes go through
`store.transaction()`, reads through `store.query()`, so the web shares the store's one
connection and lock. Without a store (tests, a UI-only run) an in-memory database with the same
migrations stands in; nothing then survives a restart.
Times are ISO 8601 UTC strings; secrets only as hashes.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from hems.store import migrate
from hems.store.db import Database
from datetime import datetime
from typing import Any, Sequence


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


class MemoryBackend(Database):
    """transaction() and query() over a private in-memory SQLite with the store's migrations."""

    def __init__(self) -> None:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        super().__init__(conn)
        migrate(conn)


def _ts(when: datetime) -> str:
    return when.isoformat()


class WebDb:
    """Users, sessions, audit and settings; `backend` is the hems Store (or a MemoryBackend)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def _write(self, sql: str, params: Sequence[Any] = ()) -> tuple[int, int | None]:
        with self.backend.transaction() as conn:
            cur = conn.execute(sql, params)
            return cur.rowcount, cur.lastrowid

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.backend.query(sql, params)

    # users -------------------------------------------------------------
    def user_count(self) -> int:
        return self._read("SELECT COUNT(*) FROM web_users")[0][0]

    def create_first_admin(self, username: str, password_hash: str, now: datetime) -> User | None:
        """Create the admin only while no user exists (atomic); None when one already does."""
        count, row_id = self._write(
            "INSERT INTO web_users (username, password_hash, role, created_at) "
            "SELECT ?, ?, 'admin', ? WHERE NOT EXISTS (SELECT 1 FROM web_users)",
            (username, password_hash, _ts(now)),
        )
        return User(int(row_id), username, "admin") if count == 1 and row_id is not None else None

    def user_by_name(self, username: str) -> tuple[User, str] | None:
        rows = self._read("SELECT id, username, role, password_hash FROM web_users WHERE username = ?", (username,))
        return (User(rows[0][0], rows[0][1], rows[0][2]), rows[0][3]) if rows else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._write("UPDATE web_users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    # sessions ----------------------------------------------------------
    def add_session(self, token_hash: str, user: User, csrf_token: str, now: datetime, expires: datetime) -> None:
        self._write("INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
                    "VALUES (?,?,?,?,?)", (token_hash, user.id, csrf_token, _ts(now), _ts(expires)))

    def session(self, token_hash: str, now: datetime) -> Session | None:
        rows = self._read(
            "SELECT u.id, u.username, u.role, s.csrf_token, s.expires_at FROM web_sessions s "
            "JOIN web_users u ON u.id = s.user_id WHERE s.token_hash = ?", (token_hash,))
        if not rows:
            return None
        uid, name, role, csrf, expires_text = rows[0]
        expires = datetime.fromisoformat(expires_text)
        if expires <= now:
            self.drop_session(token_hash)
            return None
        return Session(User(uid, name, role), csrf, expires)

    def drop_session(self, token_hash: str) -> None:
        self._write("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))

    def drop_sessions_of(self, user_id: int, keep: str | None = None) -> None:
        self._write("DELETE FROM web_sessions WHERE user_id = ? AND token_hash IS NOT ?", (user_id, keep))

    def purge_expired(self, now: datetime) -> int:
        return self._write("DELETE FROM web_sessions WHERE expires_at <= ?", (_ts(now),))[0]

    # audit -------------------------------------------------------------
    def audit(self, now: datetime, who: str, action: str, detail: dict[str, Any], remote: str | None) -> None:
        self._write("INSERT INTO web_audit (at, who, action, detail, remote) VALUES (?,?,?,?,?)",
                    (_ts(now), who, action, json.dumps(detail, sort_keys=True), remote))

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._read("SELECT at, who, action, detail, remote FROM web_audit ORDER BY id DESC LIMIT ?", (limit,))
        return [{"at": r[0].replace("+00:00", "Z"), "who": r[1], "action": r[2], "detail": json.loads(r[3]),
                 "remote": r[4]} for r in rows]

    # settings ----------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.backend.get_setting(key, default)

    def put_setting(self, key: str, value: Any, now: datetime, who: str) -> None:
        self.backend.put_setting(key, value, now, who)
