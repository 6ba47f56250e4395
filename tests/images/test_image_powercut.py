"""Power cuts under QEMU (the VM killed: no shutdown, nothing flushed): during the first boot,
right after owner changes were acknowledged while more were being written, and during an update.
After each cut the card is checked from the host (e2fsck of the data partition, SQLite's
integrity_check of the database, the last acknowledged change is there) and booted again."""
from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from guest_api import Guest
from image_vm import Image, Vm, power_on, run, sd_card
from test_image_boot import BOOT_TIMEOUT_S, GUEST_WEB_PORT, site_config

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]


def data_partition(image: Image, disk: Path, workdir: Path) -> Path:
    """The data partition as the cut left it, checked and repaired by e2fsck as the next boot
    would (journal replayed). Fails on damage that fsck cannot repair by itself."""
    part = image.partitions(disk)[3]
    out = workdir / "data.ext4"
    run("dd", f"if={disk}", f"of={out}", "bs=1M", f"skip={part.start_b}", f"count={part.size_b}",
        "iflag=skip_bytes,count_bytes", "conv=sparse", "status=none")
    fsck = subprocess.run(["e2fsck", "-fy", str(out)], capture_output=True, text=True)
    assert fsck.returncode in (0, 1), f"e2fsck: {fsck.returncode}\n{fsck.stdout}{fsck.stderr}"
    return out


def database_of(fs: Path, workdir: Path) -> sqlite3.Connection:
    """hems.sqlite (and its WAL) copied out of the data partition, opened as hems would."""
    for name in ("hems.sqlite", "hems.sqlite-wal"):
        (workdir / name).unlink(missing_ok=True)
        subprocess.run(["debugfs", "-R", f"dump /hems/{name} {workdir / name}", str(fs)],
                       capture_output=True, check=True)
    (workdir / "hems.sqlite-shm").unlink(missing_ok=True)
    conn = sqlite3.connect(workdir / "hems.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    return conn


def stored_reserve(conn: sqlite3.Connection) -> float:
    import json
    (value,) = conn.execute("SELECT value_json FROM preferences WHERE key = 'reserve_pct'").fetchone()
    return float(json.loads(value))


def test_power_cuts_lose_nothing_acknowledged(image: Image, tmp_path: Path):
    disk = sd_card(image, tmp_path, site_config())
    vm = power_on(image, disk, GUEST_WEB_PORT, tmp_path)
    vms: list[Vm] = [vm]
    try:
        # 1. during the first boot: as the partitions are grown and the config applied
        vm.wait_console(r"hems-grow-data: data file system grown", BOOT_TIMEOUT_S)
        vm.kill()
        vm = power_on(image, disk, GUEST_WEB_PORT, tmp_path)
        vms.append(vm)
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=True)

        # 2. owner changes: every acknowledged one must survive a cut right after it
        acked: list[int] = []
        stop = threading.Event()

        def change() -> None:
            for reserve in range(10, 80):
                if stop.is_set():
                    return
                try:
                    status, _ = guest.call("PUT", "/api/v1/car/reserve", {"reserve_pct": reserve}, timeout_s=30)
                except OSError:
                    return                      # the cut came mid-request
                if status == 200:
                    acked.append(reserve)

        writer = threading.Thread(target=change)
        writer.start()
        while len(acked) < 5 and writer.is_alive():
            writer.join(0.2)
        vm.kill()
        stop.set()
        writer.join()
        assert len(acked) >= 5, acked
        fs = data_partition(image, disk, tmp_path)
        reserve = stored_reserve(database_of(fs, tmp_path))
        assert reserve in (acked[-1], acked[-1] + 1), (reserve, acked)  # the last ack, or one in flight

        vm = power_on(image, disk, GUEST_WEB_PORT, tmp_path)
        vms.append(vm)
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=False)
        status, car = guest.call("GET", "/api/v1/car")
        assert status == 200 and car["preferences"]["reserve_pct"] == reserve, car

        # 3. during an update: slot B half written; A keeps running, B is not booted
        status, body = guest.upload("/api/v1/system/update", image.bundle)
        assert status == 200, body
        vm.wait_console(r"(?i)rauc\S*\[\d+\]: .*(copying|writing|installing)", 300)
        vm.kill()
        database_of(data_partition(image, disk, tmp_path), tmp_path)
        vm = power_on(image, disk, GUEST_WEB_PORT, tmp_path)
        vms.append(vm)
        assert vm.slot == "A"
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=False)
        status, state = guest.call("GET", "/api/v1/system/update")
        assert status == 200 and state["state"] == "idle" and state["slots"]["booted"] == "A", state
        other = [s for s in state["slots"]["slots"] if s["bootname"] == "B"]
        assert other and other[0]["boot_status"] == "bad", state
    finally:
        for v in vms:
            v.stop()
