"""A store with something of every kind a backup must keep: history, settings, users, enrolment."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import pytest

from hems.store import Store
from hems.store.db import Database
from hems.store.migrations import MIGRATIONS, Migration
from hems.web.db import WebDb
from hems.web.passwords import hash_password

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
PASSPHRASE = "correct horse battery staple"
OWNER, OWNER_PASSWORD = "owner", "a long enough password"


def fill(db: Database, version: int) -> None:
    """Rows in every table that exists at schema `version` (1..3)."""
    with db.transaction() as conn:
        _fill(conn, version)


def _fill(conn: sqlite3.Connection, version: int) -> None:
    for minute in range(100):
        conn.execute("INSERT INTO measurements (minute, n, grid_w, soc_pct) VALUES (?, 6, ?, 55.5)",
                     (1_772_000_000 + 60 * minute, 100.0 + minute))
    conn.execute("INSERT INTO preferences (key, value_json, who, at) VALUES ('target_soc_pct', '85', 'owner', 1.0)")
    if version >= 2:
        conn.execute("INSERT INTO agg_outbox (event_id, topic, payload, created_at, acked_at) "
                     "VALUES ('ev-1', 'hems/v1/site/settlement', x'7b7d', 2.0, 3.0)")
        conn.execute("INSERT INTO agg_seq (sender, seq, at) VALUES ('aggregator', 4711, 2.0)")


@pytest.fixture
def filled_store(tmp_path: Path):
    store = Store(tmp_path / "live" / "hems.sqlite", clock=None)
    fill(store, 3)
    web = WebDb(store)
    user = web.create_first_admin(OWNER, hash_password(OWNER_PASSWORD), NOW)
    web.add_session("f" * 64, user, "csrf", NOW, NOW.replace(year=2027))
    web.put_setting("settings.aggregator", {"enabled": True, "host": "agg.example", "site_id": "home-1"},
                    NOW, OWNER)
    yield store
    store.close()


def old_database(path: Path, migrations: Sequence[Migration]) -> Store:
    """A store as an older hems left it: only the first migrations applied."""
    store = Store(path, migrations=migrations)
    fill(store, len(migrations))
    return store


__all__ = ["MIGRATIONS", "NOW", "OWNER", "OWNER_PASSWORD", "PASSPHRASE", "old_database"]
