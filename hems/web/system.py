"""Settings > System (admin): download a backup, restore one, install a signed update bundle,
and the state of updates (this version's slot, the last unattended security upgrade).

The backup and restore logic is hems.backup's, the bundle checks and the install hems.update's;
this module only moves files over HTTP (uploads are streamed to the data directory, never held
in memory) and maps refusals to 4xx answers that say what was wrong.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from pathlib import Path

from aiohttp import web

from hems import __version__
from hems.backup.archive import BackupError
from hems.backup.create import backup_name, create_backup, installer_files
from hems.backup.crypto import MIN_PASSPHRASE_CHARS, SealError
from hems.backup.restore import install_live, prepare
from hems.backup.secrets import read_files
from hems.update.bundle import SYSTEM_CONF, BundleError, UpdateSystem, verify_bundle
from hems.update.install import Installer, request_reboot, slot_status
from hems.update.version import image_version
from hems.web import keys
from hems.web.auth import access, audit
from hems.web.errors import ApiError
from hems.web.sysinfo import security_updates, system_files
from hems.web.validate import body_json, require_str

log = logging.getLogger(__name__)

INSTALLER: web.AppKey[Installer] = web.AppKey("hems_update_installer", Installer)
UPDATE_CONF: web.AppKey[Path] = web.AppKey("hems_update_conf", Path)     # RAUC's system.conf
MAX_BACKUP_B = 4 << 30
MAX_BUNDLE_B = 2 << 30
CHUNK_B = 1 << 20


def _data_dir(request: web.Request) -> Path:
    store = request.app[keys.STORE]
    if store is None or not hasattr(store, "path"):
        raise ApiError(503, "no database: backups and updates need hems's store")
    return Path(store.path).parent


async def _receive(request: web.Request, dest: Path, max_b: int, text_fields: set[str]) -> dict[str, str]:
    """Stream the multipart form's `file` part to dest; return its short text fields."""
    ctype = request.headers.get("Content-Type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(415, f"send a form upload (multipart/form-data), got {ctype or 'no Content-Type'}")
    fields: dict[str, str] = {}
    got_file = False
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if part.name == "file":
            size = 0
            with dest.open("wb") as out:
                while chunk := await part.read_chunk(CHUNK_B):
                    size += len(chunk)
                    if size > max_b:
                        raise ApiError(413, f"file too large (at most {max_b >> 20} MiB)", "file")
                    await asyncio.to_thread(out.write, chunk)
            got_file = size > 0
        elif part.name in text_fields:
            raw = await part.read_chunk(4096)
            fields[part.name] = raw.decode("utf-8", errors="replace")
        else:
            raise ApiError(422, f"unexpected form field {part.name!r}; expected file"
                           + "".join(f", {f}" for f in sorted(text_fields)), part.name)
    if not got_file:
        raise ApiError(422, "no file uploaded (form field 'file' is missing or empty)", "file")
    return fields


@access("admin")
async def post_backup(request: web.Request) -> web.StreamResponse:
    body = await body_json(request, {"passphrase"}, {"passphrase"})
    passphrase = require_str(body["passphrase"], "passphrase", 1000)
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise ApiError(422, f"passphrase must have at least {MIN_PASSPHRASE_CHARS} characters", "passphrase")
    data_dir = _data_dir(request)
    store, config = request.app[keys.STORE], request.app[keys.CONFIG]
    now = request.app[keys.CLOCK].now()
    config_path = Path(config.source) if config is not None and Path(config.source).is_file() else None
    with tempfile.TemporaryDirectory(prefix="hems-download-", dir=data_dir) as tmp:
        out = Path(tmp) / backup_name(now)
        try:
            files = read_files(installer_files(config, config_path)) if config_path else ()
            await asyncio.to_thread(store.flush, True)
            await asyncio.to_thread(create_backup, store, out, passphrase, files, now)
        except (BackupError, SealError) as exc:
            raise ApiError(500 if isinstance(exc, BackupError) else 422, f"backup failed: {exc}") from None
        audit(request, "backup_downloaded", {"file": out.name, "size_b": out.stat().st_size})
        resp = web.StreamResponse(headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{out.name}"',
            "Content-Length": str(out.stat().st_size)})
        await resp.prepare(request)
        with out.open("rb") as f:
            while chunk := await asyncio.to_thread(f.read, CHUNK_B):
                await resp.write(chunk)
        await resp.write_eof()
    return resp


@access("admin")
async def post_restore(request: web.Request) -> web.Response:
    data_dir = _data_dir(request)
    with tempfile.TemporaryDirectory(prefix="hems-restore-", dir=data_dir) as tmp:
        upload = Path(tmp) / "upload.hemsbackup"
        fields = await _receive(request, upload, MAX_BACKUP_B, {"passphrase"})
        passphrase = fields.get("passphrase", "")
        try:
            prepared = await asyncio.to_thread(prepare, upload, passphrase, Path(tmp))
        except BackupError as exc:
            raise ApiError(422, f"restore refused: {exc}", "file") from None
        await asyncio.to_thread(install_live, prepared, request.app[keys.STORE])
    m = prepared.manifest
    audit(request, "backup_restored", {"created_at": m.created_at, "hems_version": m.hems_version})
    restart = _restart_soon()
    return web.json_response({
        "restored": True, "backup_created_at": m.created_at, "backup_hems_version": m.hems_version,
        "schema_from": prepared.schema_from, "schema_to": prepared.schema_to, "users": list(prepared.users),
        "restart": restart,
        "message": ("restored; hems restarts now to load the restored settings (log in again)" if restart else
                    "restored; restart hems to load the restored settings (log in again)"),
        "files_not_written": [f.role for f in prepared.files]})


def _restart_soon() -> bool:
    """Under systemd (Restart=always) end the process after the answer is sent, so the restored
    settings are loaded by a fresh start. Elsewhere the owner restarts hems."""
    if not os.environ.get("INVOCATION_ID"):
        return False
    asyncio.get_running_loop().call_later(1.0, os.kill, os.getpid(), signal.SIGTERM)
    return True


@access("admin")
async def post_update(request: web.Request) -> web.Response:
    installer = request.app[INSTALLER]
    if installer.busy:
        raise ApiError(409, "an update is already being installed")
    try:
        system = UpdateSystem.from_conf(request.app[UPDATE_CONF])
    except BundleError as exc:
        raise ApiError(503, str(exc)) from None
    updates = _data_dir(request) / "updates"
    updates.mkdir(exist_ok=True)
    bundle = updates / "upload.raucb"
    # A bundle left by an install that a power cut interrupted belongs to root now (RAUC takes
    # ownership of a bundle while it installs it): the upload goes to a new file.
    bundle.unlink(missing_ok=True)
    try:
        await _receive(request, bundle, MAX_BUNDLE_B, set())
        info = await asyncio.to_thread(verify_bundle, bundle, system)
    except BundleError as exc:
        bundle.unlink(missing_ok=True)
        raise ApiError(422, f"update refused: {exc}", "file") from None
    except BaseException:
        bundle.unlink(missing_ok=True)
        raise
    installer.start(bundle, info)
    audit(request, "update_started", {"version": info.version, "signer": info.signer})
    return web.json_response({"state": "installing", "version": info.version, "signer": info.signer})


@access("admin")
async def get_update(request: web.Request) -> web.Response:
    status = request.app[INSTALLER].status
    files = system_files(request.app)
    return web.json_response({
        "running_version": __version__, "image_version": image_version(files.image_version),
        "state": status.state, "message": status.message, "version": status.version,
        "progress_pct": status.progress_pct, "security_updates": await asyncio.to_thread(security_updates, files),
        "slots": await slot_status(request.app[INSTALLER].rauc)})


@access("admin")
async def post_reboot(request: web.Request) -> web.Response:
    if request.app[INSTALLER].status.state != "installed":
        raise ApiError(409, "nothing to restart for: no update has been installed")
    request_reboot(_data_dir(request) / "updates")
    audit(request, "reboot_requested", {})
    return web.json_response({"rebooting": True})


def add_routes(app: web.Application) -> None:
    app[INSTALLER] = Installer()
    app[UPDATE_CONF] = SYSTEM_CONF
    app.router.add_post("/api/v1/system/backup", post_backup)
    app.router.add_post("/api/v1/system/restore", post_restore)
    app.router.add_post("/api/v1/system/update", post_update)
    app.router.add_get("/api/v1/system/update", get_update)
    app.router.add_post("/api/v1/system/reboot", post_reboot)
