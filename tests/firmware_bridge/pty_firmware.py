"""The bridge firmware in real MicroPython on simulated hardware, behind a socat pty pair.

`start_firmware(tmp_path, *settings)` starts it (the host side opens `Firmware.host_tty`);
the `firmware` fixture starts one per test and stops it after. Shared by the bridge's own pty
tests and the agent tests that drive a charger through the bridge.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"


class Firmware:
    """The MicroPython firmware process and its simulated world (commands on stdin)."""

    def __init__(self, proc: subprocess.Popen, host_tty: Path) -> None:
        self.proc = proc
        self.host_tty = str(host_tty)

    def cmd(self, line: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        assert not reply.startswith("error"), reply
        return reply


def start_firmware(tmp_path: Path, *settings: str):
    fw_tty, host_tty = tmp_path / "fw", tmp_path / "host"
    socat = subprocess.Popen(["socat", f"pty,raw,echo=0,link={fw_tty}",
                              f"pty,raw,echo=0,link={host_tty}"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not (fw_tty.exists() and host_tty.exists()):
        assert time.monotonic() < deadline, "socat did not create the ptys"
        time.sleep(0.02)
    proc = subprocess.Popen([str(MICROPYTHON), str(ROOT / "firmware_bridge" / "sim_main.py"),
                             str(fw_tty), "report_ms=100", *settings],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return socat, proc, Firmware(proc, host_tty)


@pytest.fixture
def firmware(tmp_path: Path):
    socat, proc, fw = start_firmware(tmp_path)
    yield fw
    for p in (proc, socat):
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
