"""`hems run` as an installer starts it: a subprocess on a config file, stopped by SIGTERM."""
from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from datetime import datetime, timezone

from hems.demo import make_home
from hems.domain.clock import SystemClock
from tests.conftest import free_port
from tests.simhome import ROOT, sim_config

HEMS = [sys.executable, "-m", "hems.cli"]


def config_text(ports: dict[str, int], web_port: int, data_dir) -> str:
    """The shipped config.toml with the simulators' ports, a web port and a data dir."""
    text = (ROOT / "config.toml").read_text()
    for role, port in ports.items():
        text = re.sub(rf"(\[devices\.{role}\][^\[]*?port = )\d+", rf"\g<1>{port}", text, flags=re.S)
    text = re.sub(r"(\[web\][^\[]*?port = )\d+", rf"\g<1>{web_port}", text, flags=re.S)
    text = text.replace('data_dir = "./var"', f'data_dir = "{data_dir}"')
    return text.replace('prices_csv = "hems/data/', f'prices_csv = "{ROOT}/hems/data/')


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read())


@pytest.mark.parametrize("devices_at_stop", ["answering", "silent"])
async def test_hems_run_serves_health_and_stops_cleanly(tmp_path, devices_at_stop):
    clock = SystemClock()
    base = sim_config(tmp_path / "unused")
    home = make_home(base, clock, datetime.now(timezone.utc), base.sim)
    home.ports = {"meter": 0, "pv": 0, "charger": 0}
    await home.start()
    await home.run(step_s=1.0)
    web_port = free_port()
    cfg = tmp_path / "home.toml"
    cfg.write_text(config_text(home.ports, web_port, tmp_path / "data"))
    assert subprocess.run([*HEMS, "check-config", str(cfg)], capture_output=True).returncode == 0
    proc = subprocess.Popen([*HEMS, "run", "--config", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = await asyncio.to_thread(get_json, f"http://127.0.0.1:{web_port}/api/v1/health")
                if health["status"] == "ok":
                    break
            except OSError:
                pass
            await asyncio.sleep(0.5)
        assert health is not None and health["status"] == "ok", health
        assert "devices" not in health        # "ok": every device online and fresh; names need a login
        try:     # live state is the owner's: it needs a login
            await asyncio.to_thread(get_json, f"http://127.0.0.1:{web_port}/api/v1/state")
            raise AssertionError("state answered without a login")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        if devices_at_stop == "silent":      # the devices vanish: the stop must not wait on them
            await home.stop()
        proc.send_signal(signal.SIGTERM)
        try:     # in a thread: the simulated devices in this loop keep answering meanwhile
            out, _ = await asyncio.to_thread(proc.communicate, timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            raise AssertionError(f"hems run did not stop within 20 s of SIGTERM:\n{out[-3000:]}")
        finally:
            await home.stop()
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert (tmp_path / "data" / "hems.sqlite").exists()


def test_hems_run_refuses_a_broken_setup_without_a_traceback(tmp_path):
    cfg = tmp_path / "home.toml"
    text = config_text({"meter": 1502, "pv": 1503, "charger": 1504}, free_port(), tmp_path / "data")
    cfg.write_text(text.replace('[devices.meter]\nrole = "meter"\nprofile = "sunspec"',
                                '[devices.meter]\nrole = "meter"\nprofile = "sdm630"\nconnector = 2'))
    out = subprocess.run([*HEMS, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "connector 2 does not exist" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_hems_run_reports_config_errors(tmp_path):
    cfg = tmp_path / "home.toml"
    cfg.write_text((ROOT / "config.toml").read_text().replace("main_fuse_a = 25", "main_fuse_a = -3"))
    out = subprocess.run([*HEMS, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "site.main_fuse_a: -3" in out.stdout
