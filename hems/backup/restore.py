"""Restore a backup: check it, open its secrets with the passphrase, bring its database to this
hems's schema (migrations), then put it in place (offline) or into the running store (live)."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from hems.backup import archive
from hems.backup.archive import BackupError, Manifest
from hems.backup.crypto import SealError, SealParams, unseal
from hems.backup.secrets import SecretFile, Secrets, put_password_hashes
from hems.store.db import Database, StoreError, migrate, schema_version
from hems.store.migrations import MIGRATIONS, Migration


@dataclass(frozen=True)
class Prepared:
    """A backup checked, decrypted and migrated, its database in a file beside the target."""
    manifest: Manifest
    database: Path           # ready to install (this hems's schema, password hashes back)
    schema_from: int
    schema_to: int
    users: tuple[str, ...]
    files: tuple[SecretFile, ...]


def prepare(backup: Path, passphrase: str, workdir: Path,
            migrations: Sequence[Migration] = MIGRATIONS) -> Prepared:
    """Everything that can fail, before anything of the running hems is touched."""
    history = workdir / "restore.sqlite3"
    history.unlink(missing_ok=True)
    manifest, sealed = archive.read(backup, history)
    try:
        params = SealParams.from_json(manifest.encryption)
        secrets = Secrets.from_bytes(unseal(sealed, passphrase, archive.secrets_aad(
            manifest.format_version, manifest.history_sha256), params))
    except SealError as exc:
        raise BackupError(str(exc)) from None
    conn = sqlite3.connect(str(history), isolation_level=None)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise BackupError(f"the backup's database fails SQLite's integrity check: {check[:3]}")
        found = schema_version(conn)
        if found != manifest.schema_version:
            raise BackupError(f"the database has schema {found}, the manifest says {manifest.schema_version}")
        if found > len(migrations):
            raise BackupError(f"the backup comes from a newer hems ({manifest.hems_version}, schema {found}); "
                              f"this hems knows schema {len(migrations)}: update hems first")
        try:
            to = migrate(conn, migrations)
        except StoreError as exc:
            raise BackupError(f"the backup's database cannot be migrated: {exc}") from None
        conn.execute("BEGIN IMMEDIATE")
        users = put_password_hashes(conn, secrets.password_hashes)
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backup's database is unusable: {exc}") from None
    finally:
        conn.close()
    return Prepared(manifest, history, found, to, tuple(users), secrets.files)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def install_offline(prepared: Prepared, db_path: Path) -> None:
    """Put the restored database at db_path while hems is stopped. A stale WAL of the old file
    goes first: SQLite would otherwise replay it onto the new one."""
    _fsync(prepared.database)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(prepared.database, db_path)
    _fsync(db_path.parent)


def install_live(prepared: Prepared, db: Database) -> None:
    """Copy the restored database into the running store, in place (online backup API)."""
    src = sqlite3.connect(str(prepared.database))
    try:
        db.replace_from(src)
    finally:
        src.close()
    prepared.database.unlink(missing_ok=True)


def write_files(files: Sequence[SecretFile], dest_of: dict[str, Path]) -> list[Path]:
    """Write the installer's files to their destinations (role -> path); a file already there
    with other content is kept as NAME.before-restore. Returns the paths written."""
    written = []
    for f in files:
        dest = dest_of.get(f.role)
        if dest is None:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() and dest.read_bytes() != f.data:
            os.replace(dest, dest.with_name(dest.name + ".before-restore"))
        tmp = dest.with_name(dest.name + ".restoring")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode or 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(f.data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
        written.append(dest)
    return written
