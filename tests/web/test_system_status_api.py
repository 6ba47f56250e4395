"""GET /api/v1/devices says what the system under hems is: hems's version, the SD card image's,
and the last run of Debian's unattended security upgrades (apt's stamp file and the upgrade log),
read from files the test writes; Settings > System's update state reads the same files."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import jsonschema

from hems import __version__
from hems.web.openapi import DOC
from hems.web.sysinfo import SystemFiles, attach_system_files

LAST_RUN = datetime(2026, 6, 13, 6, 25, 7, tzinfo=timezone.utc)
LOG_LINES = ["2026-06-13 06:25:01,512 INFO Starting unattended upgrades script",
             "2026-06-13 06:25:01,513 INFO Allowed origins are: origin=Debian,codename=bookworm-security",
             "2026-06-13 06:25:07,031 INFO No packages found that can be upgraded unattended and no pending "
             "auto-removals", ""]


def on_the_image(root: Path, last_run: datetime, lines: list[str]) -> SystemFiles:
    """unattended-upgrades installed, apt's periodic directory with the stamp touched at last_run,
    the upgrade log, the image's version."""
    (root / "periodic").mkdir(parents=True)
    (root / "unattended-upgrade").touch()
    stamp = root / "periodic" / "unattended-upgrades-stamp"
    stamp.touch()
    os.utime(stamp, (last_run.timestamp(), last_run.timestamp()))
    log = root / "unattended-upgrades.log"
    log.write_text("\n".join(lines))
    (root / "hems-image-version").write_text("2026.06.2\n")
    return SystemFiles(image_version=root / "hems-image-version", security_stamp=stamp, security_log=log,
                       security_program=root / "unattended-upgrade")


def devices_schema() -> dict:
    return DOC["paths"]["/api/v1/devices"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


async def test_devices_say_when_security_updates_last_ran(owner, tmp_path):
    attach_system_files(owner.client.server.app, on_the_image(tmp_path, LAST_RUN, LOG_LINES))
    resp = await owner.get("/api/v1/devices")
    assert resp.status == 200
    body = await resp.json()
    jsonschema.validate(body, devices_schema())
    assert body["system"] == {
        "hems_version": __version__, "image_version": "2026.06.2",
        "security_updates": {"enabled": True, "last_run": "2026-06-13T06:25:07Z",
                             "result": "INFO No packages found that can be upgraded unattended and no pending "
                                       "auto-removals"}}


async def test_devices_off_the_image_say_nothing_ran(owner, tmp_path):
    (tmp_path / "periodic").mkdir()          # apt's directory is on every Debian; unattended-upgrades is not
    attach_system_files(owner.client.server.app, SystemFiles(
        image_version=tmp_path / "hems-image-version", security_stamp=tmp_path / "periodic" / "stamp",
        security_log=tmp_path / "unattended-upgrades.log", security_program=tmp_path / "unattended-upgrade"))
    body = await (await owner.get("/api/v1/devices")).json()
    jsonschema.validate(body, devices_schema())
    assert body["system"] == {"hems_version": __version__, "image_version": None,
                              "security_updates": {"enabled": False, "last_run": None, "result": None}}


async def test_enabled_but_never_run(owner, tmp_path):
    (tmp_path / "periodic").mkdir()
    (tmp_path / "unattended-upgrade").touch()
    attach_system_files(owner.client.server.app, SystemFiles(
        image_version=tmp_path / "none", security_stamp=tmp_path / "periodic" / "unattended-upgrades-stamp",
        security_log=tmp_path / "none.log", security_program=tmp_path / "unattended-upgrade"))
    body = await (await owner.get("/api/v1/devices")).json()
    assert body["system"]["security_updates"] == {"enabled": True, "last_run": None, "result": None}


async def test_the_update_state_reads_the_same_files(owner, tmp_path):
    attach_system_files(owner.client.server.app, on_the_image(tmp_path, LAST_RUN, LOG_LINES))
    devices = await (await owner.get("/api/v1/devices")).json()
    update = await (await owner.get("/api/v1/system/update")).json()
    assert update["image_version"] == devices["system"]["image_version"] == "2026.06.2"
    assert update["security_updates"] == devices["system"]["security_updates"]
    assert update["running_version"] == __version__
