"""A tiny real disk: a tmpfs of a few hundred KiB mounted for one test (needs root; skipped
where mounting is not allowed)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def mount_tiny_disk(path: Path, size_kib: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def fill(path: Path) -> None:
    """Fill the disk at `path` to the last byte."""
    fd = os.open(path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def free(path: Path) -> None:
    (path / "filler").unlink(missing_ok=True)


@pytest.fixture
def tiny_disk(tmp_path):
    mnt = tmp_path / "tiny"
    if not mount_tiny_disk(mnt, 1024):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
