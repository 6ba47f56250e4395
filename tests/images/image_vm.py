"""The SD card image under test: build the QEMU test variant once, read its partitions, boot it.

The build (images/build.sh test) needs root, mmdebstrap, qemu-user-static and the Makefile's
IMAGE_DEBS. SKIP_IMAGE=1 skips these tests on a quick local run; under CI (CI=true) a missing tool
is a failure, never a skip. HEMS_IMAGE_REUSE=1 boots an already built images/out/test/ again.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "images" / "build.sh"
OUT = REPO / "images" / "out" / "test"
TOOLS = ("mmdebstrap", "qemu-system-aarch64", "mcopy", "mdir", "debugfs", "sfdisk", "mkfs.ext4")
SOCAT = shutil.which("socat") or "/usr/bin/socat"   # guest forwards (TEST_DEBS)
SECTOR = 512


def skip_reason() -> str | None:
    if os.environ.get("SKIP_IMAGE") == "1":
        return "SKIP_IMAGE=1"
    if os.environ.get("CI") == "true":
        return None  # CI runs as root with the IMAGE_DEBS installed: fail loudly, never skip
    if os.geteuid() != 0:
        return "building the image needs root"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"missing {', '.join(missing)} (make test installs IMAGE_DEBS)" if missing else None


@dataclass(frozen=True)
class Partition:
    number: int
    start_b: int
    size_b: int


@dataclass(frozen=True)
class Image:
    path: Path
    kernel: Path
    initrd: Path
    build_log: Path
    bundle: Path          # the update bundle of this very image (signed with the build's key)
    rootfs: Path          # its root file system (ext4), to make other bundles from

    def partitions(self, path: Path | None = None) -> list[Partition]:
        table = json.loads(run("sfdisk", "--json", str(path or self.path)).stdout)["partitiontable"]
        return [Partition(i + 1, p["start"] * SECTOR, p["size"] * SECTOR)
                for i, p in enumerate(table["partitions"])]


def run(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def fat(image: Path, offset_b: int) -> str:
    """An mtools drive spec for the FAT partition at offset_b of a disk image."""
    return f"{image}@@{offset_b}"


def mtype(image: Path, offset_b: int, path: str) -> str:
    return run("mtype", "-i", fat(image, offset_b), f"::{path}",
               env={**os.environ, "MTOOLS_SKIP_CHECK": "1"}).stdout


def mcopy_in(image: Path, offset_b: int, text: str | bytes, dest: str, tmp: Path) -> None:
    src = tmp / Path(dest).name
    if isinstance(text, bytes):
        src.write_bytes(text)
    else:
        src.write_text(text)
    run("mcopy", "-o", "-i", fat(image, offset_b), str(src), f"::{dest}",
        env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})


def mtools(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})


@dataclass(frozen=True)
class BootFiles:
    slot: str
    kernel: Path
    initrd: Path
    cmdline: str


def firmware_boot(disk: Path, offset_b: int, workdir: Path) -> BootFiles:
    """What the Raspberry Pi firmware boots from this card: tryboot.txt once when the one-shot
    tryboot flag is set (the image marks it with tryboot-pending on the boot partition), else
    config.txt; the kernel, initramfs and cmdline.txt under its os_prefix. The flag is cleared,
    as the firmware clears it."""
    drive = fat(disk, offset_b)
    pending = mtools("mtype", "-i", drive, "::tryboot-pending")
    config_name = "config.txt"
    if pending.returncode == 0 and pending.stdout.strip():
        config_name = "tryboot.txt"
        mtools("mdel", "-i", drive, "::tryboot-pending")
    config = mtype(disk, offset_b, config_name)
    prefix = re.findall(r"^os_prefix=(\S+)$", config, re.M)[-1]
    slot = {"slot-a/": "A", "slot-b/": "B"}[prefix]
    out = workdir / f"firmware-{prefix.strip('/')}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img"):
        run("mcopy", "-o", "-i", drive, f"::{prefix}{name}", str(out / name),
            env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
    return BootFiles(slot, out / "vmlinuz", out / "initrd.img", mtype(disk, offset_b, f"{prefix}cmdline.txt"))


def qemu_cmdline(cmdline_txt: str) -> str:
    """A slot's cmdline.txt with the console on QEMU's first serial port and the journal copied
    to it (so a failure shows why)."""
    return " ".join([a for a in cmdline_txt.split() if not a.startswith("console=")]
                    + ["console=ttyAMA0", "panic=-1", "systemd.journald.forward_to_console=1"])


@pytest.fixture(scope="session")
def image() -> Image:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    img = OUT / "hems-test.img"
    log = OUT.parent / "build-test.log"
    if not (os.environ.get("HEMS_IMAGE_REUSE") == "1" and img.exists()):
        log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with log.open("w") as out:
            result = subprocess.run([str(BUILD), "test"], stdout=out, stderr=subprocess.STDOUT)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        if result.returncode != 0:
            pytest.fail(f"images/build.sh test failed ({result.returncode}):\n{tail}")
        print(f"\nimage build: {time.monotonic() - started:.0f} s")
    return Image(img, OUT / "vmlinuz", OUT / "initrd.img", log, OUT / "hems-test.raucb", OUT / "rootfs.ext4")


def sd_card(image: Image, workdir: Path, config_text: str, grow_b: int = 512 << 20) -> Path:
    """A copy of the image as the installer leaves it: config.toml edited, on a bigger card."""
    disk = workdir / "sd.img"
    run("cp", "--sparse=always", str(image.path), str(disk))
    mcopy_in(disk, image.partitions(disk)[0].start_b, config_text, "hems/config.toml", workdir)
    with disk.open("r+b") as f:
        f.truncate(disk.stat().st_size + grow_b)
    return disk


@dataclass(frozen=True)
class GuestForward:
    """The guest's connections to guest_ip:guest_port reach 127.0.0.1:host_port on the host
    (one host service, e.g. a broker); nothing else outside is reachable.

    QEMU's `guestfwd=...-cmd:` form: socat is started for each connection the guest opens. (The
    `-tcp:` chardev form opens one host connection when QEMU starts and feeds every guest
    connection into it, so a client that reconnects, as MQTT clients do, would get nowhere.)"""
    guest_ip: str
    guest_port: int
    host_port: int

    def netdev_option(self) -> str:
        return (f"guestfwd=tcp:{self.guest_ip}:{self.guest_port}"
                f"-cmd:{SOCAT} STDIO TCP:127.0.0.1:{self.host_port}")


def power_on(image: Image, disk: Path, guest_port: int, workdir: Path,
             forwards: tuple[GuestForward, ...] = ()) -> "Vm":
    """Boot the card as the Pi's firmware would (the slot of config.txt, or of tryboot.txt once)."""
    files = firmware_boot(disk, image.partitions(disk)[0].start_b, workdir)
    vm = Vm(image, disk, qemu_cmdline(files.cmdline), guest_port, workdir, boot=files, forwards=forwards)
    vm.slot = files.slot
    return vm


class Vm:
    """qemu-system-aarch64 -M virt booting the image's kernel directly, serial console to a file,
    user-mode networking that forwards one guest TCP port to 127.0.0.1 only, and lets the guest
    reach the host services of `forwards` (nothing else)."""

    def __init__(self, image: Image, disk: Path, cmdline: str, guest_port: int, workdir: Path,
                 boot: BootFiles | None = None, forwards: tuple[GuestForward, ...] = ()):
        self.serial_log = workdir / f"serial-{disk.stem}-{time.time():.3f}.log"
        self.host_port = free_port()
        self.started = time.monotonic()
        argv = [
            "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
            "-accel", "tcg,thread=multi", "-display", "none", "-monitor", "none",
            "-serial", f"file:{self.serial_log}", "-no-reboot",
            "-kernel", str(boot.kernel if boot else image.kernel),
            "-initrd", str(boot.initrd if boot else image.initrd), "-append", cmdline,
            "-drive", f"if=none,file={disk},format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0",
            # restrict=on: the guest reaches nothing outside but its guest forwards; only the
            # host forward comes in.
            "-netdev", ",".join([f"user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:{self.host_port}-:{guest_port}",
                                 *(f.netdev_option() for f in forwards)]),
            "-device", "virtio-net-device,netdev=net0",
            "-device", "virtio-rng-device",
        ]
        self.slot = "A"
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def console(self) -> str:
        try:
            return self.serial_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
            pytest.fail(f"qemu exited with {self.proc.returncode}: {out}\n--- console ---\n"
                        + self.console()[-4000:])

    def wait_console(self, pattern: str, timeout_s: float) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            m = re.search(pattern, self.console())
            if m:
                return m
            self._check_alive()
            time.sleep(1)
        pytest.fail(f"console never showed {pattern!r} in {timeout_s:.0f} s\n--- console tail ---\n"
                    + self.console()[-4000:])

    def wait_http(self, path: str, timeout_s: float, want_status: int) -> tuple[int, bytes]:
        """GET through the forwarded port until it answers want_status."""
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.host_port}{path}", timeout=10) as r:
                    status, body = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read()
            except (OSError, urllib.error.URLError) as e:
                last = repr(e)
                time.sleep(2)
                continue
            if status == want_status:
                return status, body
            last = f"{status} {body[:300]!r}"
            time.sleep(2)
        pytest.fail(f"GET {path} never answered {want_status} in {timeout_s:.0f} s (last: {last})\n"
                    "--- console tail ---\n" + self.console()[-4000:])

    def wait_exit(self, timeout_s: float) -> int:
        """The guest rebooted or powered off (-no-reboot makes QEMU exit on either)."""
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the VM did not restart within {timeout_s:.0f} s\n--- console tail ---\n"
                        + self.console()[-4000:])

    def kill(self) -> None:
        """Pull the plug: no shutdown, no flush of the guest's caches."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
