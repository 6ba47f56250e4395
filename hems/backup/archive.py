"""The backup file: one gzip-compressed tar with three members, read back with strict checks.

    manifest.json     format, versions, when, the SHA-256 of the history, the encryption parameters
    history.sqlite3   the SQLite database (history, settings, trips, enrolment) without secrets
    secrets.bin       AES-256-GCM under the owner's passphrase (crypto.py): the password hashes and
                      the installer's files (config.toml, aggregator keys), as JSON

The secrets are bound to this history and manifest: the associated data of the encryption is the
format tag and the history's SHA-256, so parts of two backups cannot be mixed.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

FORMAT = "hems-backup"
FORMAT_VERSION = 1
MANIFEST, HISTORY, SECRETS = "manifest.json", "history.sqlite3", "secrets.bin"
LIMITS_B = {MANIFEST: 64 << 10, HISTORY: 4 << 30, SECRETS: 16 << 20}
SUFFIX = ".hemsbackup"


class BackupError(Exception):
    """The file is not a backup this hems can restore; the message says why."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    created_at: str              # ISO 8601 UTC
    hems_version: str
    schema_version: int          # PRAGMA user_version of history.sqlite3
    history_sha256: str
    history_size_b: int
    encryption: dict[str, Any]   # crypto.SealParams.to_json()

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": self.format_version, "created_at": self.created_at,
                "hems_version": self.hems_version, "schema_version": self.schema_version,
                "history": {"sha256": self.history_sha256, "size_b": self.history_size_b},
                "encryption": self.encryption}

    @classmethod
    def from_json(cls, data: Any) -> "Manifest":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not a hems backup (its manifest does not say hems-backup)")
        version = data.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise BackupError(f"manifest format_version {version!r} is not a version number")
        if version > FORMAT_VERSION:
            raise BackupError(f"backup format {version} was made by a newer hems "
                              f"({data.get('hems_version')}); this hems reads format {FORMAT_VERSION}")
        try:
            history = data["history"]
            m = cls(format_version=version, created_at=str(data["created_at"]),
                    hems_version=str(data["hems_version"]), schema_version=int(data["schema_version"]),
                    history_sha256=str(history["sha256"]), history_size_b=int(history["size_b"]),
                    encryption=dict(data["encryption"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"manifest incomplete or malformed: {exc!r}") from None
        if m.schema_version < 0 or len(m.history_sha256) != 64:
            raise BackupError("manifest schema_version or history sha256 malformed")
        return m


def secrets_aad(format_version: int, history_sha256: str) -> bytes:
    """What the secrets' encryption authenticates besides them: this format and this history."""
    return f"{FORMAT}/{format_version}/{history_sha256}".encode()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write(out: Path, manifest: Manifest, history: Path, secrets: bytes) -> None:
    """Write the backup file (through a temporary name, so a half-written file never has the
    final name)."""
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, MANIFEST, json.dumps(manifest.to_json(), indent=1).encode())
        info = tar.gettarinfo(str(history), arcname=HISTORY)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o600
        with history.open("rb") as f:
            tar.addfile(info, f)
        _add_bytes(tar, SECRETS, secrets)
    tmp.replace(out)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def read(path: Path, history_out: Path) -> tuple[Manifest, bytes]:
    """Check the backup at path, write its history database to history_out, and return the
    manifest and the (still encrypted) secrets."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                _check_member(info, members)
                src = tar.extractfile(info)
                assert src is not None
                if info.name == HISTORY:
                    with history_out.open("wb") as f:
                        shutil.copyfileobj(src, f, 1 << 20)
                    members[HISTORY] = b""
                else:
                    members[info.name] = src.read()
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise BackupError(f"{path.name} is not a readable hems backup (damaged or another kind of "
                          f"file: {exc})") from None
    missing = [n for n in (MANIFEST, HISTORY, SECRETS) if n not in members]
    if missing:
        raise BackupError(f"{path.name} lacks {', '.join(missing)}: not a complete hems backup")
    try:
        manifest = Manifest.from_json(json.loads(members[MANIFEST]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"manifest is not JSON: {exc}") from None
    if history_out.stat().st_size != manifest.history_size_b or file_sha256(history_out) != manifest.history_sha256:
        raise BackupError("the history database does not match the manifest's SHA-256: the backup is damaged")
    return manifest, members[SECRETS]


def _check_member(info: tarfile.TarInfo, seen: dict[str, bytes]) -> None:
    if info.name not in LIMITS_B:
        raise BackupError(f"unexpected member {info.name!r}: not a hems backup")
    if not info.isfile():
        raise BackupError(f"member {info.name!r} is not a regular file")
    if info.name in seen:
        raise BackupError(f"member {info.name!r} appears twice")
    if info.size > LIMITS_B[info.name]:
        raise BackupError(f"member {info.name!r} is {info.size} bytes, over the {LIMITS_B[info.name]} limit")


def read_manifest(src: BinaryIO | Path) -> Manifest:
    """Only the manifest (for `hems restore --info` and the UI), without extracting the history."""
    try:
        with tarfile.open(src, "r:gz") if isinstance(src, Path) else tarfile.open(fileobj=src, mode="r:gz") as tar:
            for info in tar:
                if info.name == MANIFEST and info.isfile() and info.size <= LIMITS_B[MANIFEST]:
                    f = tar.extractfile(info)
                    assert f is not None
                    return Manifest.from_json(json.loads(f.read()))
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise BackupError(f"not a readable hems backup: {exc}") from None
    raise BackupError("no manifest: not a hems backup")
