"""`hems demo` as a person runs it: the simulated home and the agent, a URL, a status line."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import free_port
from tests.test_run_cli import config_text


def test_demo_runs_the_simulated_home_and_stops_by_itself(tmp_path):
    ports = {role: free_port() for role in ("meter", "pv", "charger")}
    web_port = free_port()
    cfg = tmp_path / "demo.toml"
    cfg.write_text(config_text(ports, web_port, tmp_path / "data"))
    out = subprocess.run([sys.executable, "-m", "hems.cli", "demo", "--config", str(cfg), "--duration", "12"],
                         capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert f"http://localhost:{web_port}/" in text
    assert "Mon 2024-06-03" in text and "| car" in text, text[-3000:]    # a status line from the agent
    assert "Traceback" not in text, text[-3000:]
    assert (tmp_path / "data" / "hems.sqlite").exists()
