"""`python -m hems.devices.sim` serves a simulated home a person can point drivers or `hems scan` at."""
from __future__ import annotations

import asyncio
import sys

import pytest
from pymodbus.client import AsyncModbusTcpClient


async def test_serves_a_home_until_the_duration_ends() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hems.devices.sim", "--duration", "1", "--speedup", "600",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        ports = dict(part.split("=") for part in first.split())
        assert set(ports) == {"meter", "pv", "charger"}
        client = AsyncModbusTcpClient("127.0.0.1", port=int(ports["pv"].split(":")[1]), timeout=2)
        assert await client.connect()
        rr = await client.read_holding_registers(40000, count=4, device_id=1)
        client.close()
        assert rr.registers == [0x5375, 0x6E53, 1, 66]
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert "'car_soc_pct'" in rest.decode()


def test_bad_start_is_refused_plainly(capsys) -> None:
    from hems.devices.sim.__main__ import parse_args

    for bad, message in (("yesterday", "--start 'yesterday' is not an ISO date-time"),
                         ("2024-06-03T00:00", "--start needs a UTC offset")):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(["--start", bad])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    assert parse_args(["--start", "2024-06-03T02:00:00+02:00"]).start.hour == 0
