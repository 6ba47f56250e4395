"""`hems ocpp status`: what the running agent's OCPP server wrote, for a person."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hems.config import parse_config
from hems.devices.ocpp.cli import render

from tests.devices.ocpp.conftest import Rig, make_charger, make_server

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def rig(tmp_path):
    server = make_server(status_file=tmp_path / "ocpp_status.json")
    charger = make_charger(server)
    await charger.connect()
    r = Rig(server, charger)
    yield r
    await r.station.stop()
    await server.stop()


async def test_the_status_file_lists_connected_and_refused_charge_points(rig, tmp_path):
    st = await rig.station_for("2.1")
    await rig.charger.write_power(5000.0)
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus
    with pytest.raises(InvalidStatus):
        async with connect(rig.url("NEW-CHARGER-7"), subprotocols=["ocpp2.0.1"]):
            pass
    rig.server.write_status()
    status = json.loads((tmp_path / "ocpp_status.json").read_text())
    lines = render(status, datetime.now(timezone.utc))
    text = "\n".join(lines)
    row = next(line for line in lines if "CP-1" in line)
    assert "CP-1" in row and "2.1" in row and "Occupied" in row and "5000 W" in row
    assert "hems-sim / SimHome" not in row and "hems-sim / sim-2.1 / 1.0-sim, V2X" in row
    assert "s ago" in row
    assert "refused unknown charge point 'NEW-CHARGER-7'" in text and "ocpp2.0.1" in text
    snippet = text.split("add to config.toml:\n", 1)[1]
    base = tomllib.loads((ROOT / "config.toml").read_text())
    base["devices"]["charger"] = tomllib.loads(snippet)["devices"]["charger"]
    base["ocpp"] = {}
    cfg = parse_config(base, base_dir=ROOT)
    assert cfg.device("charger").charge_point_id == "NEW-CHARGER-7"
    assert st.connected.is_set()


def test_an_old_status_file_says_hems_may_not_run():
    now = datetime.now(timezone.utc)
    status = {"at": (now - timedelta(minutes=5)).isoformat(), "port": 8887, "tls": True,
              "chargers": [{"name": "charger", "charge_point_id": "X", "protocol": None}], "refused": {}}
    text = "\n".join(render(status, now))
    assert "wss://<this host>:8887/ocpp/" in text and "hems may not be running" in text
    assert "offline" in text


def test_the_command_reports_a_missing_server_and_a_missing_status(tmp_path):
    cfg = (ROOT / "config.toml").read_text().replace('data_dir = "./var"', f'data_dir = "{tmp_path}"')
    cfg = cfg.replace('prices_csv = "hems/data/', f'prices_csv = "{ROOT}/hems/data/')
    path = tmp_path / "c.toml"
    path.write_text(cfg)
    out = subprocess.run([sys.executable, "-m", "hems.cli", "ocpp", "status", "--config", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no [ocpp] table" in out.stdout and "port = 8887" in out.stdout
    path.write_text(cfg + "\n[ocpp]\nport = 8887\n")
    out = subprocess.run([sys.executable, "-m", "hems.cli", "ocpp", "status", "--config", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "is hems running?" in out.stdout
