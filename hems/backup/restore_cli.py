"""`hems restore FILE`: restore a backup into this hems's data_dir (hems stopped), with migrations."""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hems.backup.archive import BackupError, read_manifest
from hems.backup.cli import DB_NAME, add_passphrase_argument, read_passphrase
from hems.backup.restore import install_offline, prepare, write_files
from hems.backup.secrets import SecretFile
from hems.config import ConfigError, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the backup file (.hemsbackup)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", default="config.toml", type=Path,
                       help="this hems's config file: where the database goes (default: config.toml)")
    where.add_argument("--data-dir", type=Path, default=None,
                       help="restore into this data directory instead of the config's")
    add_passphrase_argument(parser)
    parser.add_argument("--info", action="store_true", help="only show what the backup holds")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing database (stop hems first)")
    parser.add_argument("--files", action="store_true",
                        help="also write the config and key files back where they were")
    parser.add_argument("--config-to", type=Path, default=None,
                        help="with --files: write the backed-up config here instead, and the files "
                             "that were in its folder into this one, at the same places")


def run(args: argparse.Namespace) -> int:
    try:
        if args.info:
            m = read_manifest(args.file)
            print(f"hems backup from {m.created_at}, hems {m.hems_version}, schema {m.schema_version}, "
                  f"history {m.history_size_b} bytes")
            return 0
        return _restore(args)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1


def destinations(files: Sequence[SecretFile], config_to: Path | None) -> dict[str, Path]:
    """Where each backed-up file goes (role -> path): where it was; with config_to, the config
    there and the files that were below the config's folder below config_to's folder (a fresh
    card's boot partition: the key files the config names by relative paths come along)."""
    dest_of = {f.role: Path(f.path) for f in files}
    if config_to is None or "config" not in dest_of:
        return dest_of
    old_dir = dest_of["config"].parent
    for role, path in dest_of.items():
        if role == "config":
            dest_of[role] = config_to
        elif path.is_relative_to(old_dir):
            dest_of[role] = config_to.parent / path.relative_to(old_dir)
    return dest_of


def _restore(args: argparse.Namespace) -> int:
    if args.data_dir is not None:
        data_dir = args.data_dir
    else:
        try:
            data_dir = load_config(args.config).storage.data_dir
        except ConfigError as exc:
            print(f"{args.config}: " + "; ".join(exc.errors), file=sys.stderr)
            return 1
    target = data_dir / DB_NAME
    if target.exists() and not args.force:
        raise BackupError(f"{target} exists: stop hems and add --force to replace it")
    data_dir.mkdir(parents=True, exist_ok=True)
    passphrase = read_passphrase(args.passphrase_file, confirm=False)
    with tempfile.TemporaryDirectory(prefix="hems-restore-", dir=data_dir) as tmp:
        prepared = prepare(args.file, passphrase, Path(tmp))
        written = []
        if args.files:
            written = write_files(prepared.files, destinations(prepared.files, args.config_to))
        install_offline(prepared, target)
    m = prepared.manifest
    print(f"restored the backup of {m.created_at} (hems {m.hems_version}) into {target}: schema "
          f"{prepared.schema_from} -> {prepared.schema_to}, users: {', '.join(prepared.users) or 'none'}"
          + "".join(f"\n  wrote {p}" for p in written))
    return 0
