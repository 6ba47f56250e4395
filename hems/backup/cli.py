"""`hems backup`: write one backup file of this hems (database, settings, users, keys)."""
from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, timezone
from pathlib import Path

from hems.backup.archive import BackupError
from hems.backup.create import backup_name, create_backup, installer_files, open_database_file
from hems.backup.crypto import SealError
from hems.backup.secrets import read_files
from hems.config import ConfigError, load_config

DB_NAME = "hems.sqlite"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config.toml", type=Path, help="hems config file (default: config.toml)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="backup file or directory (default: hems-backup-<UTC time>.hemsbackup here)")
    add_passphrase_argument(parser)


def add_passphrase_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", type=Path, default=None,
                        help="read the passphrase from this file (first line) instead of asking")


def read_passphrase(path: Path | None, confirm: bool) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(f"cannot read the passphrase file {path}: {exc}") from None
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        raise BackupError("no passphrase: give --passphrase-file or run in a terminal")
    first = getpass.getpass("backup passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise BackupError("the two passphrases differ")
    return first


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"{args.config}: " + "; ".join(exc.errors), file=sys.stderr)
        return 1
    now = datetime.now(timezone.utc)
    out = args.output or Path(backup_name(now))
    if out.is_dir():
        out = out / backup_name(now)
    try:
        passphrase = read_passphrase(args.passphrase_file, confirm=True)
        files = read_files(installer_files(cfg, Path(args.config).resolve()))
        manifest = create_backup(open_database_file(cfg.storage.data_dir / DB_NAME), out, passphrase,
                                 files, now)
    except (BackupError, SealError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {out} ({out.stat().st_size} bytes, schema {manifest.schema_version}, "
          f"{len(files)} file(s) encrypted)")
    return 0
