"""Settings > System over HTTP: a backup downloaded from one hems restored into another, bad
uploads refused with a message, update bundles checked before anything is installed."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hems.config import load_config
from hems.store import Store
from hems.update.install import Installer
from hems.web import create_web_app
from hems.web.system import INSTALLER, UPDATE_CONF
from tests.backup.conftest import fill
from tests.web.conftest import PASSWORD, Owner

SHIPPED = Path(__file__).resolve().parents[2] / "images" / "boot" / "hems" / "config.toml"
PASSPHRASE = "a backup passphrase"


def site_config(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.toml"
    path.write_text(SHIPPED.read_text().replace('data_dir = "/var/lib/hems"', f'data_dir = "{root / "data"}"'))
    return load_config(path)


class Site:
    """One hems web app on its own store and config, with a logged-in owner."""

    def __init__(self, root: Path, agent, clock) -> None:
        self.config = site_config(root)
        self.store = Store(self.config.storage.data_dir / "hems.sqlite", clock=clock)
        self.app = create_web_app(agent, self.store, self.config, clock)
        self.app[UPDATE_CONF] = root / "rauc-system.conf"
        self.app[INSTALLER] = Installer(("rauc", f"--conf={root / 'rauc-system.conf'}"))
        self.client = TestClient(TestServer(self.app, host="127.0.0.1"))

    async def __aenter__(self) -> "Site":
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()
        self.store.close()

    async def owner(self, setup: bool = True) -> Owner:
        path = "/api/v1/auth/setup" if setup else "/api/v1/auth/login"
        resp = await self.client.post(path, json={"username": "admin", "password": PASSWORD})
        assert resp.status in (200, 201), await resp.text()
        return Owner(self.client, (await resp.json())["csrf_token"])


def form(path: Path | None, **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        data.add_field(name, value)
    if path is not None:
        data.add_field("file", path.open("rb"), filename=path.name, content_type="application/octet-stream")
    return data


async def download_backup(owner: Owner, dest: Path, passphrase: str = PASSPHRASE) -> Path:
    resp = await owner.post("/api/v1/system/backup", {"passphrase": passphrase})
    assert resp.status == 200, await resp.text()
    name = resp.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    assert name.startswith("hems-backup-") and name.endswith(".hemsbackup")
    out = dest / name
    out.write_bytes(await resp.read())
    return out


async def test_backup_from_one_hems_restores_into_another(tmp_path: Path, agent, clock):
    async with Site(tmp_path / "old", agent, clock) as old:
        owner = await old.owner()
        fill(old.store, 3)
        old.store.set_preferences({"target_soc_pct": 77}, who="owner")
        backup = await download_backup(owner, tmp_path)
    async with Site(tmp_path / "new", agent, clock) as new:
        resp = await new.client.post("/api/v1/auth/setup", json={"username": "someone", "password": "another password 1"})
        fresh = Owner(new.client, (await resp.json())["csrf_token"])
        resp = await new.client.post("/api/v1/system/restore", data=form(backup, passphrase=PASSPHRASE),
                                     headers={"X-CSRF-Token": fresh.csrf})
        body = await resp.json()
        assert resp.status == 200, body
        assert body["users"] == ["admin"] and body["schema_to"] == body["schema_from"] == 3
        assert body["restart"] is False and "restart hems" in body["message"]
        assert body["files_not_written"] == ["config"]
        assert new.store.get_preferences() == {"target_soc_pct": 77}
        assert new.store.query("SELECT COUNT(*) FROM measurements") == [(100,)]
        # the restored database has the old site's owner: the old password logs in, the session
        # of the replaced owner is gone
        assert (await new.client.get("/api/v1/settings")).status == 401
        await new.owner(setup=False)
        assert not list(new.config.storage.data_dir.glob("hems-restore-*"))


async def test_restore_refusals_name_the_problem(tmp_path: Path, agent, clock):
    async with Site(tmp_path / "site", agent, clock) as site:
        owner = await site.owner()
        backup = await download_backup(owner, tmp_path)
        before = site.store.query("SELECT COUNT(*) FROM web_users")
        h = {"X-CSRF-Token": owner.csrf}
        resp = await site.client.post("/api/v1/system/restore", data=form(backup, passphrase="wrong passphrase"), headers=h)
        assert resp.status == 422 and "wrong passphrase, or the backup was altered" in (await resp.json())["error"]
        junk = tmp_path / "junk.hemsbackup"
        junk.write_bytes(b"not a backup at all" * 100)
        resp = await site.client.post("/api/v1/system/restore", data=form(junk, passphrase=PASSPHRASE), headers=h)
        assert resp.status == 422 and "not a readable hems backup" in (await resp.json())["error"]
        resp = await site.client.post("/api/v1/system/restore", data=form(None, passphrase=PASSPHRASE), headers=h)
        assert resp.status == 422 and "no file uploaded" in (await resp.json())["error"]
        resp = await owner.post("/api/v1/system/restore", {"passphrase": PASSPHRASE})
        assert resp.status == 415 and "multipart/form-data" in (await resp.json())["error"]
        resp = await owner.post("/api/v1/system/backup", {"passphrase": "short"})
        assert resp.status == 422 and (await resp.json())["field"] == "passphrase"
        assert site.store.query("SELECT COUNT(*) FROM web_users") == before


async def test_system_routes_need_the_admin(tmp_path: Path, agent, clock):
    async with Site(tmp_path / "site", agent, clock) as site:
        await site.owner()
        await site.client.post("/api/v1/auth/logout")
        for path in ("/api/v1/system/backup", "/api/v1/system/restore", "/api/v1/system/update"):
            assert (await site.client.post(path, json={})).status in (401, 403), path


needs_rauc = pytest.mark.skipif(shutil.which("rauc") is None or shutil.which("mksquashfs") is None,
                                reason="rauc and squashfs-tools are installed by make test (TEST_DEBS)")


@needs_rauc
async def test_update_upload_checks_the_bundle_before_installing(tmp_path: Path, agent, clock):
    from tests.update.test_bundle import COMPATIBLE, make_bundle, make_keys

    keys, other = make_keys(tmp_path / "keys"), make_keys(tmp_path / "other")
    good = make_bundle(keys, tmp_path / "good.raucb", "0.3.0")
    foreign = make_bundle(other, tmp_path / "foreign.raucb", "0.3.0")
    async with Site(tmp_path / "site", agent, clock) as site:
        owner = await site.owner()
        h = {"X-CSRF-Token": owner.csrf}
        resp = await site.client.post("/api/v1/system/update", data=form(good), headers=h)
        assert resp.status == 503 and "updates are not set up" in (await resp.json())["error"]

        (tmp_path / "site" / "rauc-system.conf").write_text(
            f"[system]\ncompatible={COMPATIBLE}\nbootloader=noop\n\n[keyring]\npath={keys / 'ca.cert.pem'}\n")
        # the bundle of an install a power cut interrupted (RAUC made it root's, read-only): the
        # next upload goes to a new file, never through the old one
        leftover = site.config.storage.data_dir / "updates" / "upload.raucb"
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_bytes(b"half an old bundle")
        leftover.chmod(0o444)
        os.link(leftover, tmp_path / "leftover-inode")
        resp = await site.client.post("/api/v1/system/update", data=form(foreign), headers=h)
        assert (tmp_path / "leftover-inode").read_bytes() == b"half an old bundle"
        assert resp.status == 422
        assert "update refused: the bundle is not signed by a key this system trusts" in (await resp.json())["error"]
        assert (await (await owner.post("/api/v1/system/reboot", {})).json())["error"].startswith("nothing to restart")

        resp = await site.client.post("/api/v1/system/update", data=form(good), headers=h)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["version"] == "0.3.0"
        # this test machine has no update slots: rauc itself refuses, and the UI is told so
        state = await site.app[INSTALLER].wait()
        assert state.state == "failed" and state.message.startswith("rauc install failed: ")
        status = await (await owner.get("/api/v1/system/update")).json()
        assert status["state"] == "failed" and status["version"] == "0.3.0"
        assert set(status["security_updates"]) == {"enabled", "last_run", "result"}
        assert not (site.config.storage.data_dir / "updates" / "upload.raucb").exists()
