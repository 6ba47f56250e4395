"""What a backup keeps encrypted: the web users' password hashes and the installer's files."""
from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hems.backup.archive import BackupError

LOCKED_HASH = "!locked-in-backup"     # in the plain history: no password verifies against it
MAX_FILE_B = 1 << 20


@dataclass(frozen=True)
class SecretFile:
    role: str          # "config", "aggregator.key_file", ...
    path: str          # where it was on the backed-up machine
    mode: int          # its permission bits
    data: bytes


@dataclass(frozen=True)
class Secrets:
    password_hashes: dict[str, str]      # username -> scrypt hash (hems.web.passwords)
    files: tuple[SecretFile, ...]

    def to_bytes(self) -> bytes:
        return json.dumps({
            "web_users": [{"username": u, "password_hash": h} for u, h in self.password_hashes.items()],
            "files": [{"role": f.role, "path": f.path, "mode": f.mode,
                       "data": base64.b64encode(f.data).decode()} for f in self.files],
        }).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Secrets":
        try:
            data = json.loads(raw)
            users = {str(u["username"]): str(u["password_hash"]) for u in data["web_users"]}
            files = tuple(SecretFile(role=str(f["role"]), path=str(f["path"]), mode=int(f["mode"]) & 0o777,
                                     data=base64.b64decode(f["data"], validate=True)) for f in data["files"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError,
                binascii.Error) as exc:
            raise BackupError(f"the decrypted secrets are malformed: {exc!r}") from None
        return cls(users, files)


def read_files(named: list[tuple[str, Path]]) -> tuple[SecretFile, ...]:
    """The installer's files to keep (role, path); a missing one is a clear error."""
    out = []
    for role, path in named:
        try:
            data = path.read_bytes()
            mode = path.stat().st_mode & 0o777
        except OSError as exc:
            raise BackupError(f"cannot read {role} file {path}: {exc.strerror}") from None
        if len(data) > MAX_FILE_B:
            raise BackupError(f"{role} file {path} is over {MAX_FILE_B} bytes: not a config or key file")
        out.append(SecretFile(role, str(path), mode, data))
    return tuple(out)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def take_password_hashes(conn: sqlite3.Connection) -> dict[str, str]:
    """Move the password hashes out of a database copy and drop its login sessions; the freed
    pages are wiped by the VACUUM the caller runs."""
    if not _has_table(conn, "web_users"):
        return {}
    hashes = dict(conn.execute("SELECT username, password_hash FROM web_users").fetchall())
    conn.execute("UPDATE web_users SET password_hash = ?", (LOCKED_HASH,))
    if _has_table(conn, "web_sessions"):
        conn.execute("DELETE FROM web_sessions")
    return hashes


def put_password_hashes(conn: sqlite3.Connection, hashes: dict[str, Any]) -> list[str]:
    """Give the restored users their password hashes back; returns the usernames restored."""
    if not _has_table(conn, "web_users"):
        return []
    names = []
    for username, password_hash in hashes.items():
        if conn.execute("UPDATE web_users SET password_hash = ? WHERE username = ?",
                        (password_hash, username)).rowcount:
            names.append(username)
    return names
