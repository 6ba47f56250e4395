"""Signed A/B updates under QEMU, as an owner does them from the web UI: bad bundles refused, a
new version installed into the other slot while hems runs and booted on trial (the firmware's
tryboot, emulated by image_vm.firmware_boot), kept once hems is healthy; a broken version rolled
back by itself to the slot that worked."""
from __future__ import annotations

import re

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from guest_api import Guest
from image_vm import REPO, Image, Vm, mcopy_in, power_on, run, sd_card
from test_image_boot import BOOT_TIMEOUT_S, GUEST_WEB_PORT, site_config

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]

KEYS = REPO / "images" / "out" / "keys"          # the build's development signing key
COMPATIBLE = "hems-qemu-arm64"
INSTALL_TIMEOUT_S = 900
BROKEN_HEMS = "#!/bin/sh\necho 'hems: this build is broken on purpose' >&2\nexit 3\n"


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


def reboot_into_next(vm: Vm, image: Image, disk: Path, workdir: Path, timeout_s: float = 300) -> Vm:
    """The guest restarts (QEMU exits under -no-reboot); power on again as the firmware would."""
    vm.wait_exit(timeout_s)
    return power_on(image, disk, GUEST_WEB_PORT, workdir)


def image_state(guest: Guest) -> dict:
    status, body = guest.call("GET", "/api/v1/system/update")
    assert status == 200, body
    return body


def test_update_is_kept_when_healthy_and_a_broken_one_rolls_back(image: Image, tmp_path: Path):
    pool = ThreadPoolExecutor(max_workers=1)       # bundles are made while the VM boots
    work = tmp_path / "bundles"
    work.mkdir()
    good: Future = pool.submit(variant_bundle, image, work, "2.0.0-test", False)
    broken: Future = pool.submit(variant_bundle, image, work, "3.0.0-broken", True)
    small: Future = pool.submit(small_bundles, work)
    disk = sd_card(image, tmp_path, site_config())
    vm = power_on(image, disk, GUEST_WEB_PORT, tmp_path)
    try:
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=True)
        first_version = image_state(guest)["image_version"]
        assert vm.slot == "A" and first_version

        foreign, damaged = small.result()
        status, body = guest.upload("/api/v1/system/update", foreign)
        assert status == 422 and "not signed by a key this system trusts" in body["error"], body
        status, body = guest.upload("/api/v1/system/update", damaged)
        assert status == 422 and "damaged" in body["error"], body

        # a good update: written to slot B while hems runs, then a trial boot of B
        status, body = guest.upload("/api/v1/system/update", good.result())
        assert status == 200 and body["version"] == "2.0.0-test", body
        installed = guest.wait_update(INSTALL_TIMEOUT_S)
        assert installed["state"] == "installed", installed
        assert image_state(guest)["image_version"] == first_version      # still the old one running
        assert guest.call("POST", "/api/v1/system/reboot", {})[0] == 200
        vm = reboot_into_next(vm, image, disk, tmp_path)
        assert vm.slot == "B"
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        vm.wait_console(r"boot-check: slot B confirmed", 180)
        guest = Guest(vm.host_port)
        guest.owner(first=False)                     # the same owner: the data partition is shared
        state = image_state(guest)
        assert state["image_version"] == "2.0.0-test"
        assert state["slots"]["booted"] == "B", state

        # a broken update: written to slot A, tried, rejected, the firmware comes back to B
        status, body = guest.upload("/api/v1/system/update", broken.result())
        assert status == 200, body
        assert guest.wait_update(INSTALL_TIMEOUT_S)["state"] == "installed"
        assert guest.call("POST", "/api/v1/system/reboot", {})[0] == 200
        vm = reboot_into_next(vm, image, disk, tmp_path)
        assert vm.slot == "A"
        vm.wait_console(r"boot-check: slot A rejected", BOOT_TIMEOUT_S)
        vm = reboot_into_next(vm, image, disk, tmp_path)
        assert vm.slot == "B"
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=False)
        state = image_state(guest)
        assert state["image_version"] == "2.0.0-test" and state["slots"]["booted"] == "B"
        bad = [s for s in state["slots"]["slots"] if s["bootname"] == "A"]
        assert bad and bad[0]["boot_status"] == "bad", state
        print(f"\nupdate: {installed}")

        # a backup of this box, restored on a fresh card at its first boot
        assert guest.call("PUT", "/api/v1/car/reserve", {"reserve_pct": 33})[0] == 200
        backup = download_backup(guest, tmp_path)
    finally:
        vm.stop()
        pool.shutdown(cancel_futures=True)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    card = sd_card(image, fresh, site_config())
    offset = image.partitions(card)[0].start_b
    mcopy_in(card, offset, backup.read_bytes(), f"hems/{backup.name}", fresh)
    mcopy_in(card, offset, PASSPHRASE + "\n", "hems/backup-passphrase.txt", fresh)
    vm = power_on(image, card, GUEST_WEB_PORT, fresh)
    try:
        vm.wait_console(rf"hems-setup: backup {re.escape(backup.name)} restored", BOOT_TIMEOUT_S)
        vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
        guest = Guest(vm.host_port)
        guest.owner(first=False)                     # the old box's owner and password
        status, car = guest.call("GET", "/api/v1/car")
        assert status == 200 and car["preferences"]["reserve_pct"] == 33, car
        assert image_state(guest)["image_version"] == first_version    # a fresh card, slot A
    finally:
        vm.stop()


PASSPHRASE = "image test backup passphrase"


def download_backup(guest: Guest, workdir: Path) -> Path:
    status, body = guest.call("POST", "/api/v1/system/backup", {"passphrase": PASSPHRASE})
    assert status == 200 and isinstance(body, bytes), body
    out = workdir / "box.hemsbackup"
    out.write_bytes(body)
    return out
