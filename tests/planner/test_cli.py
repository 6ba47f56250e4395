"""`hems plan` as a subprocess: a good file prints a plan, a bad file an error and exit code 1."""
from __future__ import annotations

import json
import subprocess
import sys

from .test_problem_json import EXAMPLE


def hems_plan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hems.cli", "plan", *args],
                          capture_output=True, text=True, timeout=60)


def test_good_file_prints_the_plan(tmp_path):
    data = dict(EXAMPLE, import_price_per_kwh=[0.30] * 16 + [0.10] * 16)
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data))
    proc = hems_plan(str(path), "--envelope")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["ev_w"]) == 32 and len(out["soc_pct"]) == 33 and len(out["grid_w"]) == 32
    assert out["soc_pct"][30] >= 80.0 and out["feasible"] is True
    assert out["cost"] > 0 and out["solve_ms"] > 0
    assert len(out["envelope"]["up_w"]) == 32
    assert "Traceback" not in proc.stderr


def test_bad_file_prints_the_error_and_exits_1(tmp_path):
    bad = dict(EXAMPLE, ev=dict(EXAMPLE["ev"], capacity_wh="big"))
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    proc = hems_plan(str(path))
    assert proc.returncode == 1
    assert "ev.capacity_wh" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_not_json_and_missing_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    proc = hems_plan(str(path))
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr and "Traceback" not in proc.stderr
    proc = hems_plan(str(tmp_path / "missing.json"))
    assert proc.returncode == 1 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr


def test_the_planner_imports_no_io_or_solver_packages():
    code = ("import sys, hems.planner, hems.planner.cli\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('scipy', 'pymodbus', 'paho', 'aiohttp', 'sqlite3')\n"
            "       or m.startswith(('hems.devices', 'hems.control', 'hems.store', 'hems.web'))]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
