"""`hems demo` with an OCPP charger in config.toml: a simulated 2.1 station dials the agent."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import free_port
from tests.test_run_cli import config_text

pytestmark = pytest.mark.slow

OCPP_CHARGER = """[devices.charger]
role = "charger"
profile = "ocpp"
transport = "ocpp"
charge_point_id = "DEMO-1"
comm_timeout_s = 60

"""


def test_the_demo_runs_an_ocpp_home_from_the_config(tmp_path):
    ports = {role: free_port() for role in ("meter", "pv")}
    ocpp_port = free_port()
    text = config_text(ports, free_port(), tmp_path / "data")
    text = re.sub(r"\[devices\.charger\].*?(?=\n# A charger that speaks OCPP)", OCPP_CHARGER, text, flags=re.S)
    text += f'\n[ocpp]\nbind = "127.0.0.1"\nport = {ocpp_port}\nmeter_interval_s = 2\n'
    cfg = tmp_path / "ocpp-demo.toml"
    cfg.write_text(text)
    out = subprocess.run([sys.executable, "-m", "hems.cli", "demo", "--config", str(cfg), "--duration", "12"],
                         capture_output=True, text=True, timeout=120)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert f"OCPP server on ws://127.0.0.1:{ocpp_port}/ocpp/{{id}} for DEMO-1" in log, log[-3000:]
    assert "OCPP DEMO-1 connected (2.1)" in log and "Traceback" not in log, log[-3000:]
    assert re.search(r"\| car +-?\d+\.\d\d kW +\d+\.\d %", log), log[-3000:]     # a measured SoC
    status = json.loads((tmp_path / "data" / "ocpp_status.json").read_text())
    charger = status["chargers"][0]
    assert charger["charge_point_id"] == "DEMO-1" and charger["model"] == "SimHome ocpp2.1"
