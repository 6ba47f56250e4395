"""The firmware under real MicroPython (unix port from PyPI) and compiled for the RP2040.

Every case in test_bridge_firmware.py and test_bridge_behaviour.py runs a second time in a MicroPython process; every
firmware file is compiled by mpy-cross for armv6m (the Pico's Cortex-M0+).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
FIRMWARE_FILES = sorted((ROOT / "firmware_bridge").glob("*.py"))


def case_names() -> list[str]:
    names = []
    for module in ("test_bridge_firmware.py", "test_bridge_behaviour.py"):
        tree = ast.parse((HERE / module).read_text())
        names += [n.name for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    return names


@pytest.fixture(scope="module")
def mp_results() -> dict[str, str]:
    proc = subprocess.run([str(MICROPYTHON), str(HERE / "mp_runner.py"), str(ROOT)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.stdout.rstrip().splitlines()[-1].startswith("DONE"), proc.stdout + proc.stderr
    results: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("PASS "):
            results[line[5:]] = "pass"
        elif line.startswith("FAIL "):
            name, _, why = line[5:].partition(": ")
            results[name] = why
        elif line.startswith("MEASURE "):
            print("micropython " + line)
    return results


def test_runs_real_micropython() -> None:
    out = subprocess.run([str(MICROPYTHON), "-c", "import sys; print(sys.implementation.name)"],
                         capture_output=True, text=True, timeout=30).stdout.strip()
    assert out == "micropython"


@pytest.mark.parametrize("name", case_names())
def test_case_under_micropython(mp_results: dict[str, str], name: str) -> None:
    assert name in mp_results, f"{name} did not run under MicroPython"
    assert mp_results[name] == "pass", mp_results[name]


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: p.name)
def test_compiles_for_rp2040(path: Path, tmp_path: Path) -> None:
    out = tmp_path / (path.stem + ".mpy")
    proc = subprocess.run([str(MPY_CROSS), "-march=armv6m", "-o", str(out), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data[0] == ord("M") and len(data) > 50


def test_machine_hal_logic_under_micropython() -> None:
    """hal_machine (ring buffer, ADC and PWM conversions, IRQ wiring) with a recording stand-in
    for `machine`: the unix port has no Pin/PWM/ADC. The hardware itself is not exercised."""
    proc = subprocess.run([str(MICROPYTHON), str(HERE / "mp_machine_check.py"), str(ROOT)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stdout + proc.stderr
