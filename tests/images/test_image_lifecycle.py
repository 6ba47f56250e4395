"""One box's life under QEMU, in the order a fielded Pi meets it (one chain of boots, so that
each boot serves several checks):

1. power cut during the first boot (as the data partition is grown and the config applied);
2. power cut while owner changes are being written (some acknowledged, one in flight) and an
   update is being written to the other slot: the box comes back on its slot, that one marked bad;
3. bundles signed by another key or damaged refused; a good update installed from the web UI
   while hems runs, booted on trial (the firmware's tryboot, emulated by image_vm.firmware_boot)
   and kept once hems is healthy;
4. a broken version rolled back by itself to the slot that worked;
5. a backup of the box restored on a fresh card at its first boot, which is also checked as an
   installer's first boot (config applied, hems healthy, data grown, slot A committed).

The box is enrolled with a host-side aggregator (real mosquitto, mutual TLS, reached through a
QEMU guest forward): the events it accepted before the cut are on the card after it and are
settled after the reboot; the restored box comes back online with the aggregator.

After each cut the card is checked from the host (e2fsck of the data partition, SQLite's
integrity_check, the last acknowledged change is there) and booted again.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from guest_aggregator import (DURATIONS_S, LINK_TIMEOUT_S, GuestAggregator, accept_events, check_settlement,
                              window)
from guest_api import Guest
from image_vm import REPO, Image, Vm, mcopy_in, power_on, run, sd_card
from test_image_boot import BOOT_TIMEOUT_S, DATA_MIB, GUEST_WEB_PORT, site_config

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]

KEYS = REPO / "images" / "out" / "keys"          # the build's development signing key
COMPATIBLE = "hems-qemu-arm64"
INSTALL_TIMEOUT_S = 900
BROKEN_HEMS = "#!/bin/sh\necho 'hems: this build is broken on purpose' >&2\nexit 3\n"
PASSPHRASE = "image test backup passphrase"


# ---------------------------------------------------------------- bundles
def variant_bundle(image: Image, workdir: Path, version: str, broken: bool) -> Path:
    """A bundle of the image's root file system with another version (and, if broken, a hems
    that exits at once), edited with debugfs, signed by images/bundle.sh with the build's key."""
    rootfs = workdir / f"rootfs-{version}.ext4"
    run("cp", "--sparse=always", str(image.rootfs), str(rootfs))
    (workdir / "version").write_text(version + "\n")
    (workdir / "broken-hems").write_text(BROKEN_HEMS)
    (workdir / "broken-hems").chmod(0o755)
    requests = ["rm /etc/hems-image-version", f"write {workdir / 'version'} /etc/hems-image-version"]
    if broken:
        requests += ["rm /opt/hems/venv/bin/hems", f"write {workdir / 'broken-hems'} /opt/hems/venv/bin/hems",
                     "sif /opt/hems/venv/bin/hems mode 0100755"]
    (workdir / f"debugfs-{version}").write_text("\n".join(requests) + "\n")
    run("debugfs", "-w", "-f", str(workdir / f"debugfs-{version}"), str(rootfs))
    bundle = workdir / f"hems-{version}.raucb"
    run(str(REPO / "images" / "bundle.sh"), str(rootfs), version, str(bundle), COMPATIBLE)
    rootfs.unlink()
    return bundle


def small_bundles(workdir: Path) -> tuple[Path, Path]:
    """(signed by another project's key, signed by ours but damaged): small, refused at once."""
    from tests.update.test_bundle import make_bundle, make_keys

    foreign = make_bundle(make_keys(workdir / "other-keys"), workdir / "foreign.raucb", "9.9.9", COMPATIBLE)
    damaged = make_bundle(KEYS, workdir / "damaged.raucb", "9.9.8", COMPATIBLE)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x40
    damaged.write_bytes(bytes(data))
    return foreign, damaged


# ---------------------------------------------------------------- the card, read from the host
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


def stored_events(conn: sqlite3.Connection) -> dict[str, str]:
    """event_id -> state of the aggregator events the box accepted."""
    return dict(conn.execute("SELECT event_id, state FROM agg_events").fetchall())


def stored_reserve(conn: sqlite3.Connection) -> float:
    (value,) = conn.execute("SELECT value_json FROM preferences WHERE key = 'reserve_pct'").fetchone()
    return float(json.loads(value))


# ---------------------------------------------------------------- the web API
def image_state(guest: Guest) -> dict:
    status, body = guest.call("GET", "/api/v1/system/update")
    assert status == 200, body
    return body


def download_backup(guest: Guest, workdir: Path) -> Path:
    status, body = guest.call("POST", "/api/v1/system/backup", {"passphrase": PASSPHRASE})
    assert status == 200 and isinstance(body, bytes), body
    out = workdir / "box.hemsbackup"
    out.write_bytes(body)
    return out


def next_reserve(reserve_pct: int) -> int:
    """The owner's changes go 10, 11, ... 79, 10, ... (each differs from the one before)."""
    return 10 + (reserve_pct - 10 + 1) % 70


def reserve_writer(guest: Guest, acked: list[int], stop: threading.Event) -> threading.Thread:
    """Owner changes one after another until stopped; each acknowledged one is appended to acked."""
    def change() -> None:
        reserve = 10
        while not stop.is_set():
            try:
                status, _ = guest.call("PUT", "/api/v1/car/reserve", {"reserve_pct": reserve}, timeout_s=30)
            except OSError:
                return                      # the cut came mid-request
            assert status == 200, status
            acked.append(reserve)
            reserve = next_reserve(reserve)
    return threading.Thread(target=change)


class Box:
    """The card and the VM that boots it (one at a time, as on a Pi), enrolled with a host-side
    aggregator it reaches through a guest forward."""

    def __init__(self, image: Image, disk: Path, workdir: Path, aggregator: GuestAggregator) -> None:
        self.image, self.disk, self.workdir, self.aggregator = image, disk, workdir, aggregator
        self.vms: list[Vm] = []

    @property
    def vm(self) -> Vm:
        return self.vms[-1]

    def power_on(self) -> Vm:
        self.vms.append(power_on(self.image, self.disk, GUEST_WEB_PORT, self.workdir,
                                 forwards=(self.aggregator.forward(),)))
        return self.vm

    def healthy_guest(self, first: bool = False) -> Guest:
        self.vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(self.vm.host_port)
        guest.owner(first=first)
        return guest

    def restart(self, timeout_s: float = 300) -> Vm:
        """The guest restarts (QEMU exits under -no-reboot); power on again as the firmware would."""
        self.vm.wait_exit(timeout_s)
        return self.power_on()

    def stop(self) -> None:
        if sys.exc_info()[0] is not None and self.vms and self.vms[-1].proc.poll() is None:
            time.sleep(5)                    # the journal reaches the console a moment later
            print("\n--- hems on the console (the failure above) ---\n" + "\n".join(
                line for line in self.vms[-1].console().splitlines()[-400:] if "hems" in line)[-6000:])
        for vm in self.vms:
            vm.stop()


def assert_clock_right(vm: Vm) -> None:
    """The guest keeps the time its real-time clock gave it (nothing sets it back at boot): hems
    plans and signs aggregator messages with it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{vm.host_port}/api/v1/health", timeout=30) as r:
        guest_now = parsedate_to_datetime(r.headers["Date"])
    skew_s = abs((guest_now - datetime.now(timezone.utc)).total_seconds())
    assert skew_s < 120, f"the guest's clock is {skew_s:.0f} s off"


def check_first_boot(vm: Vm, config: str) -> float:
    """What an installer sees at first boot: the config applied, hems serving and honest about
    its devices, the data partition grown to the card, slot A committed, the firewall up.
    Returns the seconds from power on to HTTP 200 on /api/v1/health."""
    applied = vm.wait_console(r"hems-setup: config applied \(sha256 ([0-9a-f]{64})\)", BOOT_TIMEOUT_S)
    assert applied.group(1) == hashlib.sha256(config.encode()).hexdigest()
    status, body = vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
    boot_s = vm.elapsed_s()
    health = json.loads(body)
    # no device answers in the VM: the agent says so instead of pretending
    assert health["status"] == "degraded" and health["problems"], health
    console = vm.console()
    assert re.search(r"Started \S*hems\.service", console)
    assert "CONFIG ERROR" not in console
    assert "Failed to start nftables" not in console and "firewall: cannot open" not in console
    grown = re.search(r"data file system grown to (\d+) MiB", console)
    assert grown and int(grown.group(1)) > DATA_MIB + 256, "the data partition was not grown to the card"
    assert vm.slot == "A"
    assert_clock_right(vm)
    vm.wait_console(r"boot-check: slot A .* is the committed slot", 120)
    return boot_s


# ---------------------------------------------------------------- the chain
def test_a_box_survives_power_cuts_updates_a_broken_version_and_is_restored(image: Image, tmp_path: Path,
                                                                           aggregator: GuestAggregator):
    pool = ThreadPoolExecutor(max_workers=1)       # bundles are made while the VM boots
    work = tmp_path / "bundles"
    work.mkdir()
    small: Future = pool.submit(small_bundles, work)
    good: Future = pool.submit(variant_bundle, image, work, "2.0.0-test", False)
    broken: Future = pool.submit(variant_bundle, image, work, "3.0.0-broken", True)
    box_config = site_config() + aggregator.config_toml()
    card = sd_card(image, tmp_path, box_config)
    aggregator.install(card, image.partitions(card)[0].start_b, tmp_path)
    box = Box(image, card, tmp_path, aggregator)
    try:
        # 1. a power cut during the first boot: the next boot finishes the setup
        box.power_on().wait_console(r"hems-grow-data: data file system grown", BOOT_TIMEOUT_S)
        box.vm.kill()
        box.power_on()
        guest = box.healthy_guest(first=True)
        first_version = image_state(guest)["image_version"]
        assert box.vm.slot == "A" and first_version
        aggregator.wait_online(LINK_TIMEOUT_S)
        replies = accept_events(aggregator, DURATIONS_S)      # starting soon, one after the other
        event_ids = [r["in_reply_to"] for r in replies]

        # 2. a power cut while owner changes are being written and an update (the build's own
        #    bundle) is being written to slot B: every acknowledged change and accepted event
        #    survives; A keeps running, B is marked bad and not booted
        acked: list[int] = []
        stop = threading.Event()
        writer = reserve_writer(guest, acked, stop)
        writer.start()
        status, body = guest.upload("/api/v1/system/update", image.bundle)
        assert status == 200, body
        box.vm.wait_console(r"(?i)rauc\S*\[\d+\]: .*(copying|writing|installing)", 300)
        while len(acked) < 5 and writer.is_alive():
            writer.join(0.2)
        assert writer.is_alive(), f"the owner changes ended before the cut: {acked}"
        box.vm.kill()
        stop.set()
        writer.join()
        db = database_of(data_partition(image, box.disk, tmp_path), tmp_path)
        reserve = stored_reserve(db)
        assert reserve in (acked[-1], next_reserve(acked[-1])), (reserve, acked[-3:])  # acked, or in flight
        events = stored_events(db)
        assert {i: events.get(i) for i in event_ids} == {i: "active" for i in event_ids}
        db.close()
        assert box.power_on().slot == "A"
        guest = box.healthy_guest()
        assert_clock_right(box.vm)
        status, car = guest.call("GET", "/api/v1/car")
        assert status == 200 and car["preferences"]["reserve_pct"] == reserve, car
        state = image_state(guest)
        assert state["state"] == "idle" and state["slots"]["booted"] == "A", state
        other = [s for s in state["slots"]["slots"] if s["bootname"] == "B"]
        assert other and other[0]["boot_status"] == "bad", state

        # 3. bundles not ours or damaged are refused; a good one is written to B and kept
        foreign, damaged = small.result()
        status, body = guest.upload("/api/v1/system/update", foreign)
        assert status == 422 and "not signed by a key this system trusts" in body["error"], body
        status, body = guest.upload("/api/v1/system/update", damaged)
        assert status == 422 and "damaged" in body["error"], body
        status, body = guest.upload("/api/v1/system/update", good.result())
        assert status == 200 and body["version"] == "2.0.0-test", body
        installed = guest.wait_update(INSTALL_TIMEOUT_S)
        assert installed["state"] == "installed", installed
        assert image_state(guest)["image_version"] == first_version      # still the old one running
        assert guest.call("POST", "/api/v1/system/reboot", {})[0] == 200
        assert box.restart().slot == "B"
        box.vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        box.vm.wait_console(r"boot-check: slot B confirmed", 180)
        guest = box.healthy_guest()                  # the same owner: the data partition is shared
        state = image_state(guest)
        assert state["image_version"] == "2.0.0-test" and state["slots"]["booted"] == "B", state

        # 4. a broken update: written to A, tried, rejected, the firmware comes back to B
        status, body = guest.upload("/api/v1/system/update", broken.result())
        assert status == 200, body
        assert guest.wait_update(INSTALL_TIMEOUT_S)["state"] == "installed"
        assert guest.call("POST", "/api/v1/system/reboot", {})[0] == 200
        assert box.restart().slot == "A"
        box.vm.wait_console(r"boot-check: slot A rejected", BOOT_TIMEOUT_S)
        assert box.restart().slot == "B"
        guest = box.healthy_guest()
        state = image_state(guest)
        assert state["image_version"] == "2.0.0-test" and state["slots"]["booted"] == "B"
        bad = [s for s in state["slots"]["slots"] if s["bootname"] == "A"]
        assert bad and bad[0]["boot_status"] == "bad", state
        print(f"\nupdate: {installed}")

        # the events accepted before the cut were settled (the first ended while the box was off)
        for reply in replies:
            left_s = max(0.0, (window(replies[-1])[1] - datetime.now(timezone.utc)).total_seconds())
            check_settlement(aggregator.wait_settlement(reply["in_reply_to"], left_s + LINK_TIMEOUT_S), reply)

        # the backup of this box, for a fresh card
        assert guest.call("PUT", "/api/v1/car/reserve", {"reserve_pct": 33})[0] == 200
        backup = download_backup(guest, tmp_path)
    finally:
        box.stop()
        pool.shutdown(cancel_futures=True)

    # 5. a fresh card with the backup on its boot partition: restored at its first boot, the
    #    box's config included (the card's own is kept as config.toml.before-restore)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    card = sd_card(image, fresh, site_config())
    offset = image.partitions(card)[0].start_b
    mcopy_in(card, offset, backup.read_bytes(), f"hems/{backup.name}", fresh)
    mcopy_in(card, offset, PASSPHRASE + "\n", "hems/backup-passphrase.txt", fresh)
    box = Box(image, card, fresh, aggregator)
    try:
        vm = box.power_on()
        fresh_on = time.monotonic()
        vm.wait_console(rf"hems-setup: backup {re.escape(backup.name)} restored", BOOT_TIMEOUT_S)
        boot_s = check_first_boot(vm, box_config)
        print(f"\nfirst boot (with a restore) to HTTP 200 on /api/v1/health: {boot_s:.0f} s")
        guest = Guest(vm.host_port)
        guest.owner(first=False)                     # the old box's owner and password
        status, car = guest.call("GET", "/api/v1/car")
        assert status == 200 and car["preferences"]["reserve_pct"] == 33, car
        assert image_state(guest)["image_version"] == first_version    # a fresh card, slot A
        aggregator.wait_online(LINK_TIMEOUT_S, since=fresh_on)          # the enrolment came back too
    finally:
        box.stop()
