"""Static checks of the built test image: the boot partition read with mtools, the root file system
with debugfs, both straight from the disk image (no mounts)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from image_vm import Image, mtype, run

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(2400)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root_fs(image: Image, tmp_path_factory) -> Path:
    """The ext4 root partition cut out of the disk image, for debugfs."""
    root = image.partitions()[1]          # slot A
    out = tmp_path_factory.mktemp("rootfs") / "root.ext4"
    subprocess.run(["dd", f"if={image.path}", f"of={out}", "bs=1M", f"skip={root.start_b}",
                    f"count={root.size_b}", "iflag=skip_bytes,count_bytes", "conv=sparse",
                    "status=none"], check=True)
    return out


def debugfs(fs: Path, request: str) -> str:
    return run("debugfs", "-R", request, str(fs)).stdout


def read_file(fs: Path, path: str) -> str:
    return debugfs(fs, f"cat {path}")


def owner(fs: Path, path: str) -> tuple[int, int, str]:
    """(uid, gid, mode) of a path in the ext4 image."""
    out = debugfs(fs, f"stat {path}")
    m = re.search(r"Mode:\s+(\d+).*?\n.*?User:\s+(\d+)\s+Group:\s+(\d+)", out, re.S)
    assert m, f"{path} not in the image:\n{out}"
    return int(m.group(2)), int(m.group(3)), m.group(1)


def test_partition_table(image: Image):
    boot, slot_a, slot_b, data = image.partitions()
    table = run("sfdisk", "--dump", str(image.path)).stdout
    assert "label: dos" in table and "label-id: 0x4845d5a1" in table   # the Pi firmware reads MBR
    assert re.search(r"type=c, bootable", table)      # FAT32 (LBA) first
    for p in (boot, slot_a, slot_b, data):            # SD erase-block aligned
        assert p.start_b % (4 << 20) == 0
    assert slot_a.size_b == slot_b.size_b >= 1 << 30   # two equal root slots (A/B updates)
    assert data.start_b + data.size_b <= image.path.stat().st_size


def test_boot_partition_has_firmware_slot_a_and_settings(image: Image):
    boot = image.partitions()[0]
    listing = run("mdir", "-/", "-b", "-i", f"{image.path}@@{boot.start_b}", "::",
                  env={**os.environ, "MTOOLS_SKIP_CHECK": "1"}).stdout
    for name in ("config.txt", "start4.elf", "fixup4.dat", "slot-a/vmlinuz", "slot-a/initrd.img",
                 "slot-a/cmdline.txt", "slot-a/bcm2711-rpi-4-b.dtb", "hems-slots.txt",
                 "hems/config.toml", "hems/README.txt", "hems/wifi.toml.example"):
        assert f"::/{name}" in listing, f"{name} missing from the boot partition:\n{listing}"
    assert "::/hems/wifi.toml\n" not in listing and "authorized_keys" not in listing
    assert "::/slot-b" not in listing and "tryboot" not in listing
    cmdline = mtype(image.path, boot.start_b, "slot-a/cmdline.txt")
    assert "root=PARTUUID=4845d5a1-02" in cmdline and "rauc.slot=A" in cmdline
    assert "console=ttyS1,115200" in cmdline
    assert "cma=" not in cmdline                      # the Pi 4 does not boot with cma=64M
    config_txt = mtype(image.path, boot.start_b, "config.txt")
    assert "arm_64bit=1" in config_txt and re.search(r"^kernel=vmlinuz$", config_txt, re.M)
    assert re.search(r"^initramfs initrd\.img( followkernel)?$", config_txt, re.M)
    assert re.findall(r"^os_prefix=(\S+)$", config_txt, re.M) == ["slot-a/"]


def test_shipped_config_passes_check_config(image: Image, tmp_path):
    boot = image.partitions()[0]
    config = tmp_path / "config.toml"
    config.write_text(mtype(image.path, boot.start_b, "hems/config.toml"))
    result = subprocess.run([str(REPO / ".venv" / "bin" / "hems"), "check-config", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hems_installed_in_a_venv_owned_by_hems(root_fs: Path):
    passwd = read_file(root_fs, "/etc/passwd")
    m = re.search(r"^hems:x:(\d+):(\d+):[^:]*:/var/lib/hems:/usr/sbin/nologin$", passwd, re.M)
    assert m, "no hems system user"
    uid, gid = int(m.group(1)), int(m.group(2))
    assert uid < 1000                                  # a system user
    group = read_file(root_fs, "/etc/group")
    assert re.search(rf"^dialout:x:\d+:.*\bhems\b", group, re.M), "hems is not in dialout"
    for path in ("/opt/hems/venv", "/opt/hems/venv/bin/hems", "/opt/hems/venv/bin/python3"):
        assert owner(root_fs, path)[:2] == (uid, gid), path
    # Debian 13 and its Python 3.13 (the build host may run another Python)
    assert read_file(root_fs, "/etc/debian_version").startswith("13"), read_file(root_fs, "/etc/debian_version")
    venv = re.search(r"^version(?:_info)? = (\d+)\.(\d+)", read_file(root_fs, "/opt/hems/venv/pyvenv.cfg"), re.M)
    assert venv and venv.groups() == ("3", "13"), read_file(root_fs, "/opt/hems/venv/pyvenv.cfg")
    site_dir = "/opt/hems/venv/lib/python3.13/site-packages"
    site = debugfs(root_fs, f"ls -p {site_dir}")
    for package in ("hems", "numpy", "aiohttp", "pymodbus", "paho"):
        assert f"/{package}/" in site, f"{package} not installed"
    # byte-compiled at build time for the image's Python (the service cannot write to the venv)
    for package in ("hems", "numpy", "aiohttp"):
        assert ".cpython-313.pyc" in debugfs(root_fs, f"ls {site_dir}/{package}/__pycache__"), package


def test_services_enabled_and_ssh_off(root_fs: Path):
    wants = debugfs(root_fs, "ls /etc/systemd/system/multi-user.target.wants")
    for unit in ("hems.service", "hems-setup.service", "hems-config-error.service",
                 "avahi-daemon.service", "systemd-networkd.service"):
        assert unit in wants, f"{unit} not enabled"
    assert "nftables.service" in debugfs(root_fs, "ls /etc/systemd/system/sysinit.target.wants")
    assert "ssh.service" not in wants
    unit = read_file(root_fs, "/etc/systemd/system/hems.service")
    for line in ("Type=notify", "WatchdogSec=", "Restart=always", "User=hems", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "StateDirectory=hems", "SupplementaryGroups=dialout"):
        assert line in unit


def test_no_passwords_keys_or_identity_in_the_image(root_fs: Path):
    shadow = read_file(root_fs, "/etc/shadow")
    for line in shadow.splitlines():
        name, pw = line.split(":")[:2]
        assert pw.startswith(("!", "*")) or pw == "", f"{name} has a password"
    assert not re.search(r"ssh_host_\w+_key", debugfs(root_fs, "ls /etc/ssh"))
    assert read_file(root_fs, "/etc/machine-id") == ""
    sshd = read_file(root_fs, "/etc/ssh/sshd_config.d/10-hems.conf")
    assert "PasswordAuthentication no" in sshd


def test_low_sd_wear_settings(root_fs: Path):
    fstab = read_file(root_fs, "/etc/fstab")
    assert re.search(r"^PARTUUID=4845d5a1-04\s+/data\s+ext4\s+noatime,commit=60\S*\s+0\s+2$", fstab, re.M)
    assert re.search(r"^/data/hems\s+/var/lib/hems\s+none\s+bind", fstab, re.M)
    assert re.search(r"^tmpfs\s+/tmp\s+tmpfs", fstab, re.M)
    journald = read_file(root_fs, "/etc/systemd/journald.conf.d/10-hems.conf")
    assert "Storage=volatile" in journald and "RuntimeMaxUse=" in journald


def test_udev_rules_and_firewall_installed(root_fs: Path):
    rules = read_file(root_fs, "/etc/udev/rules.d/70-hems-serial.rules")
    assert 'SYMLINK+="hems-rs485"' in rules and 'SYMLINK+="hems-bridge"' in rules
    nft = read_file(root_fs, "/etc/nftables.conf")
    assert "policy drop" in nft and "@lan_tcp" in nft


def test_updates_rauc_slots_keyring_and_security_upgrades(image: Image, root_fs: Path):
    conf = read_file(root_fs, "/etc/rauc/system.conf")
    for line in ("compatible=hems-qemu-arm64", "bootloader=custom", "bundle-formats=plain",
                 "bootloader-custom-backend=/usr/local/lib/hems-image/rauc-tryboot",
                 "device=/dev/disk/by-partuuid/4845d5a1-02", "device=/dev/disk/by-partuuid/4845d5a1-03",
                 "bootname=A", "bootname=B", "statusfile=/data/rauc.status"):
        assert line in conf, line
    keyring = read_file(root_fs, "/etc/rauc/keyring.pem")
    assert keyring == (REPO / "images" / "out" / "keys" / "ca.cert.pem").read_text()
    assert "BEGIN PRIVATE KEY" not in keyring and "PRIVATE" not in debugfs(root_fs, "ls -l /etc/rauc")
    policy = read_file(root_fs, "/etc/dbus-1/system.d/hems-rauc.conf")
    assert '<deny send_destination="de.pengutronix.rauc"/>' in policy and 'user="hems"' in policy
    wants = debugfs(root_fs, "ls /etc/systemd/system/multi-user.target.wants")
    assert "hems-boot-check.service" in wants and "hems-reboot.path" in wants
    assert "hems-grow-data.service" in debugfs(root_fs, "ls /etc/systemd/system/local-fs.target.wants")
    timers = debugfs(root_fs, "ls /etc/systemd/system/timers.target.wants")
    assert "apt-daily-upgrade.timer" in timers and "apt-daily.timer" in timers
    auto = read_file(root_fs, "/etc/apt/apt.conf.d/20auto-upgrades")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in auto
    assert "Debian-Security" in read_file(root_fs, "/etc/apt/apt.conf.d/50unattended-upgrades")
    assert "unsquashfs" in debugfs(root_fs, "ls /usr/bin")   # rauc info reads a plain bundle's manifest with it
    hook = read_file(root_fs, "/etc/kernel/postinst.d/z50-raspi-firmware")
    assert "slot-boot-files" in hook                   # a kernel update lands in the running slot
    assert read_file(root_fs, "/etc/hems-image-version").strip()
    assert image.bundle.stat().st_size > 50 << 20
