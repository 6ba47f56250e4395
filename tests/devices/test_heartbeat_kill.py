"""Kill the agent with SIGKILL: the simulated charger falls back by itself within its timeout."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from hems.devices.factory import make_driver
from hems.devices.modbus import ModbusBus, TcpEndpoint
from hems.devices.profiles import load_profile
from hems.devices.sim import ChargePoint, SunSpecCharger
from hems.domain import ChargerState

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 2.0


def sims():
    """profile name -> simulator factory (real time: the process under test runs in real time)."""
    out = {"sunspec_charger": lambda: SunSpecCharger(plant=ChargePoint(soc_pct=50.0))}
    try:
        from hems.devices.sim.quasar import WallboxQuasar
        out["wallbox_quasar"] = lambda: WallboxQuasar(plant=ChargePoint(soc_pct=50.0))
    except ImportError:
        pass
    try:
        from hems.devices.sim.evtec import EvtecBiDiPro
        out["evtec_bidipro10"] = lambda: EvtecBiDiPro(plant=ChargePoint(soc_pct=50.0))
    except ImportError:
        pass
    return out


@pytest.mark.slow
@pytest.mark.parametrize("profile", sorted(sims()))
async def test_charger_falls_back_after_sigkill(profile, serve):
    sim = sims()[profile]()
    server = await serve(sim)
    observer = make_driver("observer", load_profile(profile, role="charger"),
                           ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0).unit(1))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.devices.heartbeat_agent", profile, str(server.port),
        "3000", str(TIMEOUT_S), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"ready"
        await asyncio.sleep(1.5 * TIMEOUT_S)        # alive: heartbeats keep the charger going
        r = await observer.read()
        assert r.state is ChargerState.CHARGING and r.ev_power_w > 2000.0
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    killed_at = time.monotonic()
    while True:
        # Look at the simulator itself: a Modbus read would count as a sign of life for
        # chargers whose timeout watches any request (Quasar, EVtec).
        sim.refresh(sim.clock.now())
        if sim.plant.actual_w == 0.0:
            break
        assert time.monotonic() - killed_at < TIMEOUT_S + 2.0, "charger kept going after the kill"
        await asyncio.sleep(0.1)
    fallback_s = time.monotonic() - killed_at
    print(f"{profile}: fell back {fallback_s:.2f} s after SIGKILL (timeout {TIMEOUT_S} s)")
    assert fallback_s <= TIMEOUT_S + 2.0
