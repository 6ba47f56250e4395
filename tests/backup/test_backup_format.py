"""Backup file: round trip, secrets kept out of the plain part, every kind of bad file refused."""
from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from hems.backup import archive
from hems.backup.archive import BackupError, read_manifest
from hems.backup.create import create_backup
from hems.backup.crypto import SealError
from hems.backup.restore import install_live, install_offline, prepare
from hems.backup.secrets import SecretFile
from hems.store import Store
from hems.store.migrations import MIGRATIONS, Migration
from hems.web.db import WebDb
from hems.web.passwords import verify_password

from tests.backup.conftest import NOW, OWNER, OWNER_PASSWORD, PASSPHRASE, old_database

KEY = SecretFile("aggregator.auth_key_file", "/etc/hems/aggregator.key", 0o600, b"K" * 32 + b"secret-site-key")


def backup_of(store, tmp_path: Path, name: str = "b.hemsbackup", files=(KEY,)) -> Path:
    out = tmp_path / name
    create_backup(store, out, PASSPHRASE, tuple(files), NOW)
    return out


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def rewrite(path: Path, out: Path, **replace_members: bytes) -> Path:
    """The same backup with some members' bytes replaced (as an attacker or a bad disk would)."""
    old = members(path)
    old.update(replace_members)
    with tarfile.open(out, "w:gz") as tar:
        for name, data in old.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_round_trip_restores_history_settings_users_and_files(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    manifest = read_manifest(path)
    assert manifest.schema_version == len(MIGRATIONS) and manifest.created_at == "2026-03-01T12:00:00Z"

    work = tmp_path / "work"
    work.mkdir()
    prepared = prepare(path, PASSPHRASE, work)
    assert prepared.users == (OWNER,) and prepared.files == (KEY,)
    target = tmp_path / "fresh" / "hems.sqlite"
    target.parent.mkdir()
    install_offline(prepared, target)

    restored = Store(target)
    try:
        assert restored.query("PRAGMA integrity_check") == [("ok",)]
        assert restored.query("SELECT COUNT(*), SUM(grid_w) FROM measurements") == [(100, sum(100.0 + i for i in range(100)))]
        assert restored.get_preferences() == {"target_soc_pct": 85}
        assert restored.query("SELECT seq FROM agg_seq") == [(4711,)]
        assert restored.query("SELECT acked_at FROM agg_outbox WHERE event_id = 'ev-1'") == [(3.0,)]
        web = WebDb(restored)
        assert web.get_setting("settings.aggregator")["site_id"] == "home-1"
        user, password_hash = web.user_by_name(OWNER)
        assert verify_password(OWNER_PASSWORD, password_hash)
        assert restored.query("SELECT COUNT(*) FROM web_sessions") == [(0,)]   # logins are not carried over
    finally:
        restored.close()


def test_secrets_are_not_readable_without_the_passphrase(filled_store, tmp_path: Path):
    password_hash = WebDb(filled_store).user_by_name(OWNER)[1]
    raw = path_bytes = backup_of(filled_store, tmp_path).read_bytes()
    parts = members(tmp_path / "b.hemsbackup")
    for blob in (parts[archive.HISTORY], parts[archive.SECRETS], parts[archive.MANIFEST], raw):
        assert password_hash.encode() not in blob
        assert b"secret-site-key" not in blob
    assert path_bytes[:2] == b"\x1f\x8b"            # gzip
    history = tmp_path / "plain.sqlite3"
    history.write_bytes(parts[archive.HISTORY])
    conn = sqlite3.connect(history)
    assert conn.execute("SELECT password_hash FROM web_users").fetchall() == [("!locked-in-backup",)]
    conn.close()


def test_wrong_passphrase_is_refused(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    with pytest.raises(BackupError, match="wrong passphrase"):
        prepare(path, "not the passphrase", tmp_path)


def test_short_passphrase_is_refused(filled_store, tmp_path: Path):
    with pytest.raises(SealError, match="at least 8 characters"):
        create_backup(filled_store, tmp_path / "x.hemsbackup", "short", (), NOW)
    assert not (tmp_path / "x.hemsbackup").exists()


def test_altered_history_is_refused(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    history = bytearray(members(path)[archive.HISTORY])
    history[-100] ^= 0xFF
    bad = rewrite(path, tmp_path / "bad.hemsbackup", **{archive.HISTORY: bytes(history)})
    with pytest.raises(BackupError, match="does not match the manifest"):
        prepare(bad, PASSPHRASE, tmp_path)


def test_history_and_manifest_altered_together_fail_the_seal(filled_store, tmp_path: Path):
    """Recomputing the manifest's hash is not enough: the hash is bound into the encryption."""
    path = backup_of(filled_store, tmp_path)
    parts = members(path)
    conn_path = tmp_path / "edit.sqlite3"
    conn_path.write_bytes(parts[archive.HISTORY])
    conn = sqlite3.connect(conn_path)
    conn.execute("UPDATE agg_seq SET seq = 1")
    conn.commit()
    conn.close()
    manifest = json.loads(parts[archive.MANIFEST])
    manifest["history"] = {"sha256": archive.file_sha256(conn_path), "size_b": conn_path.stat().st_size}
    bad = rewrite(path, tmp_path / "bad.hemsbackup", **{archive.HISTORY: conn_path.read_bytes(),
                                                       archive.MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match="wrong passphrase, or the backup was altered"):
        prepare(bad, PASSPHRASE, tmp_path)


def test_secrets_of_another_backup_are_refused(filled_store, tmp_path: Path):
    first = backup_of(filled_store, tmp_path, "1.hemsbackup")
    filled_store.set_preferences({"target_soc_pct": 90}, who="owner")
    second = backup_of(filled_store, tmp_path, "2.hemsbackup")
    mixed = rewrite(first, tmp_path / "mixed.hemsbackup", **{archive.SECRETS: members(second)[archive.SECRETS]})
    with pytest.raises(BackupError, match="altered"):
        prepare(mixed, PASSPHRASE, tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[: len(raw) // 2], "not a readable hems backup"),
    (lambda raw: b"PK\x03\x04 a zip file, not a backup", "not a readable hems backup"),
    (lambda raw: b"", "not a readable hems backup"),
])
def test_damaged_or_foreign_files_are_refused(filled_store, tmp_path: Path, damage, message):
    path = backup_of(filled_store, tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(BackupError, match=message):
        prepare(path, PASSPHRASE, tmp_path)


def test_unexpected_members_are_refused(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    bad = rewrite(path, tmp_path / "bad.hemsbackup", **{"../../etc/cron.d/x": b"* * * * * root sh"})
    with pytest.raises(BackupError, match="unexpected member '../../etc/cron.d/x'"):
        prepare(bad, PASSPHRASE, tmp_path)


def test_backup_from_a_newer_format_is_refused_clearly(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    manifest = json.loads(members(path)[archive.MANIFEST])
    manifest.update(format_version=archive.FORMAT_VERSION + 1, hems_version="9.0")
    bad = rewrite(path, tmp_path / "bad.hemsbackup", **{archive.MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match=r"format 2 was made by a newer hems \(9.0\)"):
        prepare(bad, PASSPHRASE, tmp_path)


def test_backup_of_an_older_hems_restores_with_migrations(tmp_path: Path):
    old = old_database(tmp_path / "old" / "hems.sqlite", MIGRATIONS[:2])   # before the web UI tables
    path = backup_of(old, tmp_path, files=())
    old.close()
    assert read_manifest(path).schema_version == 2
    later = MIGRATIONS + [Migration(len(MIGRATIONS) + 1, "a later hems's table",
                                    ("CREATE TABLE later (id INTEGER PRIMARY KEY, note TEXT)",))]
    prepared = prepare(path, PASSPHRASE, tmp_path, migrations=later)
    assert (prepared.schema_from, prepared.schema_to) == (2, len(later))
    target = tmp_path / "new" / "hems.sqlite"
    target.parent.mkdir()
    install_offline(prepared, target)
    store = Store(target, migrations=later)
    try:
        assert store.schema_version == len(later)
        assert store.query("SELECT COUNT(*) FROM measurements") == [(100,)]
        assert store.query("SELECT seq FROM agg_seq") == [(4711,)]
        assert store.query("SELECT COUNT(*) FROM web_users") == [(0,)] and store.query("SELECT * FROM later") == []
    finally:
        store.close()


def test_backup_of_a_newer_hems_is_refused(tmp_path: Path):
    later = MIGRATIONS + [Migration(len(MIGRATIONS) + 1, "later", ("CREATE TABLE later (id INTEGER)",))]
    newer = old_database(tmp_path / "n" / "hems.sqlite", later)
    path = backup_of(newer, tmp_path, files=())
    newer.close()
    with pytest.raises(BackupError, match=rf"newer hems \(.*schema {len(later)}\); this hems knows schema {len(MIGRATIONS)}"):
        prepare(path, PASSPHRASE, tmp_path)


def test_live_restore_replaces_the_running_database_in_place(filled_store, tmp_path: Path):
    path = backup_of(filled_store, tmp_path)
    other = Store(tmp_path / "other" / "hems.sqlite")
    try:
        other.set_preferences({"target_soc_pct": 40}, who="someone")
        prepared = prepare(path, PASSPHRASE, tmp_path)
        install_live(prepared, other)
        assert other.get_preferences() == {"target_soc_pct": 85}
        assert other.query("SELECT COUNT(*) FROM measurements") == [(100,)]
        assert verify_password(OWNER_PASSWORD, WebDb(other).user_by_name(OWNER)[1])
        assert other.query("PRAGMA integrity_check") == [("ok",)]
    finally:
        other.close()
    reopened = Store(tmp_path / "other" / "hems.sqlite")      # the replacement reached the disk
    assert reopened.get_preferences() == {"target_soc_pct": 85}
    reopened.close()


def test_backup_is_consistent_while_the_agent_writes(filled_store, tmp_path: Path):
    """The online backup copies under the store's lock: a writer in another thread never tears it."""
    import threading

    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            with filled_store.transaction() as c:
                c.execute("INSERT INTO events (at, kind, message, who) VALUES (?, 'x', 'a', 'b')", (i,))
                c.execute("INSERT INTO events (at, kind, message, who) VALUES (?, 'x', 'b', 'b')", (i,))
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        paths = [backup_of(filled_store, tmp_path, f"{n}.hemsbackup") for n in range(3)]
    finally:
        stop.set()
        thread.join()
    for n, path in enumerate(paths):
        work = tmp_path / f"w{n}"
        work.mkdir()
        db = sqlite3.connect(prepare(path, PASSPHRASE, work).database)
        counts = db.execute("SELECT at, COUNT(*) FROM events WHERE kind = 'x' GROUP BY at").fetchall()
        assert all(count == 2 for _, count in counts)        # both rows of a transaction, or neither
        db.close()
