"""Update bundles made by images/bundle.sh with images/keys.sh keys, checked by hems.update.bundle
through the real `rauc info`: a good bundle passes, every kind of bad one is refused clearly."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hems.update.bundle import BundleError, UpdateSystem, verify_bundle

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"
COMPATIBLE = "hems-test-arm64"

pytestmark = pytest.mark.skipif(shutil.which("rauc") is None or shutil.which("mksquashfs") is None,
                                reason="rauc and squashfs-tools are installed by make test (TEST_DEBS)")


def make_keys(path: Path) -> Path:
    subprocess.run([str(IMAGES / "keys.sh"), str(path)], check=True, capture_output=True)
    return path


def make_bundle(keys: Path, out: Path, version: str, compatible: str = COMPATIBLE) -> Path:
    root = out.parent / f"root-{out.stem}"
    root.mkdir()
    (root / "etc").mkdir()
    (root / "etc" / "hems-release").write_text(f"{version}\n")
    (root / "payload").write_bytes(os.urandom(64 << 10))    # squashfs needs more than 4 KiB
    image = out.parent / f"{out.stem}.ext4"
    subprocess.run(["mkfs.ext4", "-q", "-d", str(root), str(image), "8M"], check=True)
    env = {**os.environ, "RAUC_KEY": str(keys / "signing.key.pem"), "RAUC_CERT": str(keys / "signing.cert.pem")}
    subprocess.run([str(IMAGES / "bundle.sh"), str(image), version, str(out), compatible], check=True,
                   capture_output=True, env=env)
    return out


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(keys dir, other project's keys dir, a good bundle)."""
    tmp = tmp_path_factory.mktemp("bundles")
    keys, other = make_keys(tmp / "keys"), make_keys(tmp / "other")
    return keys, other, make_bundle(keys, tmp / "good.raucb", "0.2.0")


def system(keys: Path) -> UpdateSystem:
    return UpdateSystem(COMPATIBLE, keys / "ca.cert.pem")


def test_a_bundle_signed_by_the_project_key_passes(signed):
    keys, _other, bundle = signed
    info = verify_bundle(bundle, system(keys))
    assert (info.compatible, info.version) == (COMPATIBLE, "0.2.0")
    assert "hems update signing" in info.signer and info.size_b == bundle.stat().st_size


def test_a_bundle_signed_by_another_key_is_refused(signed):
    _keys, other, bundle = signed
    with pytest.raises(BundleError, match="not signed by a key this system trusts"):
        verify_bundle(bundle, system(other))


def test_a_damaged_bundle_is_refused(signed, tmp_path: Path):
    keys, _other, bundle = signed
    bad = tmp_path / "bad.raucb"
    data = bytearray(bundle.read_bytes())
    data[len(data) // 3] ^= 0x01
    bad.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="damaged: its content does not match its signature"):
        verify_bundle(bad, system(keys))


def test_an_unsigned_bundle_is_refused(signed, tmp_path: Path):
    """The squashfs alone, its appended signature cut off."""
    keys, _other, bundle = signed
    data = bundle.read_bytes()
    (sig_size,) = struct.unpack(">Q", data[-8:])
    unsigned = tmp_path / "unsigned.raucb"
    unsigned.write_bytes(data[: len(data) - 8 - sig_size])
    with pytest.raises(BundleError, match="not a hems update bundle"):
        verify_bundle(unsigned, system(keys))


def test_other_files_are_refused(signed, tmp_path: Path):
    keys, _other, _bundle = signed
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(50_000))
    with pytest.raises(BundleError, match="not a hems update bundle"):
        verify_bundle(junk, system(keys))
    empty = tmp_path / "empty.raucb"
    empty.write_bytes(b"")
    with pytest.raises(BundleError, match="the file is empty"):
        verify_bundle(empty, system(keys))


def test_a_bundle_for_another_system_is_refused(signed, tmp_path: Path):
    keys, _other, _bundle = signed
    foreign = make_bundle(keys, tmp_path / "foreign.raucb", "0.2.0", compatible="other-board")
    with pytest.raises(BundleError, match="is for 'other-board', this system is 'hems-test-arm64'"):
        verify_bundle(foreign, system(keys))


def test_system_conf_is_read_and_its_absence_is_explained(tmp_path: Path):
    with pytest.raises(BundleError, match="updates are not set up on this system"):
        UpdateSystem.from_conf(tmp_path / "system.conf")
    conf = tmp_path / "system.conf"
    conf.write_text("[system]\ncompatible=hems-pi-arm64\nbootloader=custom\n\n[keyring]\npath=keyring.pem\n")
    assert UpdateSystem.from_conf(conf) == UpdateSystem("hems-pi-arm64", tmp_path / "keyring.pem")
    conf.write_text("[system]\ncompatible=x\n")
    with pytest.raises(BundleError, match="lacks"):
        UpdateSystem.from_conf(conf)


def test_hems_update_check_from_the_cli(signed, tmp_path: Path):
    keys, other, bundle = signed
    conf = tmp_path / "system.conf"
    conf.write_text(f"[system]\ncompatible={COMPATIBLE}\n\n[keyring]\npath={keys / 'ca.cert.pem'}\n")
    ok = subprocess.run([sys.executable, "-m", "hems.cli", "update", "--check", "--system-conf", str(conf),
                         str(bundle)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and f"bundle OK: {COMPATIBLE} 0.2.0" in ok.stdout
    conf.write_text(f"[system]\ncompatible={COMPATIBLE}\n\n[keyring]\npath={other / 'ca.cert.pem'}\n")
    refused = subprocess.run([sys.executable, "-m", "hems.cli", "update", "--check", "--system-conf", str(conf),
                              str(bundle)], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "update refused: the bundle is not signed by a key" in refused.stderr
