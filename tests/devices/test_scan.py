"""`hems scan` against simulated devices: finds them, prints a snippet hems.config accepts."""
from __future__ import annotations

import asyncio
import re
import sys
import tomllib
from pathlib import Path

import pytest

from hems.config import parse_config
from hems.devices.modbus import ModbusBus, TcpEndpoint
from hems.devices.scan import parse_units, report, scan
from hems.devices.sim import ChargePoint, SunSpecCharger, SunSpecMeter

ROOT = Path(__file__).resolve().parents[2]


def splice(snippet_toml: str) -> dict:
    """The example config.toml with its devices of the snippet's roles replaced by the snippet."""
    base = tomllib.loads((ROOT / "config.toml").read_text())
    found = tomllib.loads(snippet_toml)["devices"]
    roles = {d["role"] for d in found.values()}
    base["devices"] = {n: d for n, d in base["devices"].items() if d["role"] not in roles}
    base["devices"].update(found)
    return base


async def test_scan_finds_sunspec_devices_and_the_snippet_validates(serve, clock):
    import io
    meter = SunSpecMeter(unit_id=3, clock=clock, base=0)
    meter.set_power(2500.0)
    charger = SunSpecCharger(plant=ChargePoint(soc_pct=71.0), unit_id=1, clock=clock)
    server = await serve([charger, meter])
    ticks = []
    result = await scan(ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=0.5),
                        parse_units("1-4"), progress=lambda *a: ticks.append(a[2]))
    assert ticks == [1, 2, 3, 4]
    assert [(f.unit, f.role) for f in result.found] == [(1, "charger"), (3, "meter")]
    assert result.found[0].sunspec_models == (1, 701, 702, 704, 713)
    assert "SoC 71 %" in result.found[0].reading
    assert "grid 2500 W (import)" in result.found[1].reading
    assert result.found[0].manufacturer == "hems" and result.found[0].serial == "EV0001"
    assert result.absent == [2, 4] and not result.refused   # a TCP gateway: "no such unit"
    out = io.StringIO()
    report(result, TcpEndpoint("127.0.0.1", server.port), out)
    text = out.getvalue()
    assert "SunSpec models: 1, 701, 702, 704, 713" in text
    snippet = text.split("# --- paste into config.toml ---\n", 1)[1]
    cfg = parse_config(splice(snippet))
    dev = {d.role: d for d in cfg.devices}
    assert (dev["charger"].port, dev["charger"].unit) == (server.port, 1)
    assert (dev["meter"].port, dev["meter"].unit, dev["meter"].profile) == (server.port, 3, "sunspec")


async def test_scan_command_end_to_end(serve, clock):
    server = await serve(SunSpecCharger(plant=ChargePoint(soc_pct=50.0), clock=clock))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hems.devices.scan", "--host", "127.0.0.1", "--port",
        str(server.port), "--units", "1-2", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    out, err = out.decode(), err.decode()
    assert proc.returncode == 0, err
    assert "scanning unit 2 (2/2)" in err and "Traceback" not in err
    assert re.search(r'\[devices.charger\]\nrole = "charger"\nprofile = "sunspec"', out)


@pytest.mark.parametrize("args,message", [
    (["--host", "127.0.0.1", "--port", "1", "--units", "1-2"], "127.0.0.1:1: cannot connect"),
    (["--serial", "/dev/does-not-exist", "--units", "1"], "/dev/does-not-exist@9600N1: cannot connect"),
    (["--host", "127.0.0.1", "--units", "0-3"], "--units: '0-3' is outside 1-247"),
])
def test_unreachable_is_reported_plainly(args, message):
    import subprocess
    proc = subprocess.run([sys.executable, "-m", "hems.devices.scan", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_parse_units():
    assert parse_units("1-3,7, 5") == [1, 2, 3, 5, 7]
    assert parse_units("247") == [247]
    with pytest.raises(ValueError, match="'5-2' is outside 1-247"):
        parse_units("5-2")


def test_units_that_answer_but_are_unknown_get_one_summary_line():
    import io

    from hems.devices.scan import Found, ScanResult
    result = ScanResult(found=[Found(unit=1, role="meter", profile="sunspec")],
                        refused={u: "not a SunSpec device (no 'SunS' at 40000, 0, 50000)" for u in range(2, 248)})
    out = io.StringIO()
    report(result, TcpEndpoint("192.0.2.5", 502), out)
    text = out.getvalue()
    assert "246 unit id(s) answered but are no device hems knows: 2-247 (hems scan -v" in text
    assert "not a SunSpec device" not in text and "unit 1: meter" in text
    out = io.StringIO()
    report(result, TcpEndpoint("192.0.2.5", 502), out, details=True)
    assert out.getvalue().count("not a SunSpec device") == 246
