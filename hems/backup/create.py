"""Take a backup of a running (or stopped) hems: the database through SQLite's online backup API,
secrets moved out of the copy and sealed under the owner's passphrase, one file written."""
from __future__ import annotations

import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from hems import __version__
from hems.backup import archive
from hems.backup.archive import BackupError, Manifest
from hems.backup.crypto import check_passphrase, seal
from hems.backup.secrets import SecretFile, Secrets, take_password_hashes
from hems.config.model import Config
from hems.store.db import Database, schema_version


def installer_files(cfg: Config, config_path: Path) -> list[tuple[str, Path]]:
    """The files a fresh card needs besides the database: the config and the aggregator's keys."""
    named = [("config", config_path)]
    agg = cfg.aggregator
    if agg is not None:
        for role, path in (("aggregator.ca_file", agg.ca_file), ("aggregator.cert_file", agg.cert_file),
                           ("aggregator.key_file", agg.key_file),
                           ("aggregator.password_file", agg.password_file),
                           ("aggregator.auth_key_file", agg.auth_key_file)):
            if path is not None:
                named.append((role, path))
    return named


def backup_name(now: datetime) -> str:
    return f"hems-backup-{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}{archive.SUFFIX}"


def create_backup(db: Database, out: Path, passphrase: str, files: tuple[SecretFile, ...],
                  now: datetime) -> Manifest:
    """Write the backup of db (and files) to out. db keeps serving while the copy is taken."""
    check_passphrase(passphrase)
    with tempfile.TemporaryDirectory(prefix="hems-backup-", dir=out.parent) as tmp:
        history = Path(tmp) / archive.HISTORY
        copy = sqlite3.connect(str(history), isolation_level=None)
        try:
            db.copy_to(copy)
            copy.execute("PRAGMA journal_mode=DELETE")      # one self-contained file
            copy.execute("BEGIN")
            hashes = take_password_hashes(copy)
            copy.execute("COMMIT")
            copy.execute("VACUUM")                          # no freed page keeps a hash
            version = schema_version(copy)
        finally:
            copy.close()
        digest = archive.file_sha256(history)
        params, sealed = seal(Secrets(hashes, files).to_bytes(), passphrase,
                              archive.secrets_aad(archive.FORMAT_VERSION, digest))
        manifest = Manifest(format_version=archive.FORMAT_VERSION,
                            created_at=now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                            hems_version=__version__, schema_version=version, history_sha256=digest,
                            history_size_b=history.stat().st_size, encryption=params.to_json())
        archive.write(out, manifest, history, sealed)
    return manifest


def open_database_file(path: Path) -> Database:
    """The store's file opened for a copy (hems may be running: WAL readers do not block it)."""
    if not path.is_file():
        raise BackupError(f"no database at {path}: check [storage] data_dir")
    return Database(sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0))
