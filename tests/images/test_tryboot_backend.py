"""The RAUC backend for the Pi firmware's tryboot, run natively on a folder standing for the boot
partition: the slot to try, its commit once good, and what a rejected trial leaves."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[2] / "images" / "rootfs" / "usr" / "local" / "lib" / "hems-image" / "rauc-tryboot"
CONFIG = "arm_64bit=1\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n\nos_prefix=slot-a/\n"


@pytest.fixture
def fw(tmp_path: Path) -> Path:
    d = tmp_path / "firmware"
    d.mkdir()
    (d / "config.txt").write_text(CONFIG)
    (d / "hems-slots.txt").write_text("A=good\n")
    return d


def backend(fw: Path, booted: str, *args: str) -> str:
    cmdline = fw.parent / "cmdline"
    cmdline.write_text(f"console=ttyS1 root=PARTUUID=4845d5a1-0{2 if booted == 'A' else 3} rauc.slot={booted}\n")
    done = subprocess.run(["sh", str(BACKEND), *args], capture_output=True, text=True,
                          env={**os.environ, "HEMS_FIRMWARE_DIR": str(fw), "HEMS_CMDLINE": str(cmdline)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_update_is_tried_once_then_committed(fw: Path):
    assert backend(fw, "A", "get-primary") == "A" and backend(fw, "A", "get-current") == "A"
    assert backend(fw, "A", "get-state", "B") == "bad"          # never written yet
    # RAUC installing into B: B bad while written, then primary
    backend(fw, "A", "set-state", "B", "bad")
    backend(fw, "A", "set-primary", "B")
    assert (fw / "tryboot-pending").read_text().strip() == "B"
    assert "os_prefix=slot-b/" in (fw / "tryboot.txt").read_text()
    assert (fw / "config.txt").read_text() == CONFIG           # a normal boot still starts A
    assert backend(fw, "A", "get-primary") == "B"
    # the trial boot of B is healthy: mark-good commits it
    backend(fw, "B", "set-state", "B", "good")
    config = (fw / "config.txt").read_text()
    assert config.endswith("os_prefix=slot-b/\n") and "os_prefix=slot-a/" not in config
    assert not (fw / "tryboot.txt").exists() and not (fw / "tryboot-pending").exists()
    assert backend(fw, "B", "get-primary") == "B" and backend(fw, "B", "get-state", "B") == "good"


def test_a_rejected_trial_leaves_the_committed_slot(fw: Path):
    backend(fw, "A", "set-state", "B", "bad")
    backend(fw, "A", "set-primary", "B")
    backend(fw, "B", "set-state", "B", "bad")                   # hems never became healthy on B
    assert (fw / "config.txt").read_text() == CONFIG
    assert not (fw / "tryboot-pending").exists() and not (fw / "tryboot.txt").exists()
    assert backend(fw, "A", "get-primary") == "A" and backend(fw, "A", "get-state", "B") == "bad"


def test_marking_the_committed_slot_good_changes_nothing(fw: Path):
    backend(fw, "A", "set-state", "A", "good")
    assert (fw / "config.txt").read_text() == CONFIG
    backend(fw, "A", "set-primary", "A")
    assert not (fw / "tryboot.txt").exists()


def test_bad_arguments_are_refused(fw: Path):
    for args in (("set-primary", "C"), ("set-state", "A", "maybe"), ("frobnicate",)):
        done = subprocess.run(["sh", str(BACKEND), *args], capture_output=True, text=True,
                              env={**os.environ, "HEMS_FIRMWARE_DIR": str(fw)})
        assert done.returncode == 2 and done.stderr
