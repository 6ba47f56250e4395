"""The real agent on the simulated home whose charger is an OCPP station (as `make demo` can run)."""
from __future__ import annotations

import asyncio

import pytest

from hems.app import build_agent
from hems.demo import make_home, sim_start
from hems.domain.clock import ScaledClock
from tests.conftest import free_port
from tests.simhome import sim_config

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def ocpp_sections(version: str, ocpp_port: int, meter_port: int = 15020, pv_port: int = 15021) -> dict:
    return {"devices": {"meter": {"port": meter_port}, "pv": {"port": pv_port},
                        "charger": {"transport": "ocpp", "profile": "ocpp", "charge_point_id": "SIM-1",
                                    "host": None, "port": None, "unit": None, "comm_timeout_s": 60}},
            "ocpp": {"bind": "127.0.0.1", "port": ocpp_port, "meter_interval_s": 1},
            "sim": {"ocpp_version": version}}


@pytest.mark.parametrize("version", ["1.6", "2.1"])
async def test_the_agent_drives_an_ocpp_charger(tmp_path, version):
    ocpp_port = free_port()
    base = sim_config(tmp_path / "data", free_port(), **ocpp_sections(version, ocpp_port))
    start = sim_start(base, base.sim)
    clock = ScaledClock(start, speedup=20)
    home = make_home(base, clock, start, base.sim)
    home.ports = {"meter": 0, "pv": 0, "charger": 0}
    await home.start()
    await home.run(step_s=1.0)
    config = sim_config(tmp_path / "data", free_port(),
                        **ocpp_sections(version, ocpp_port, home.ports["meter"], home.ports["pv"]))
    agent, store, _ = build_agent(config, clock)
    station = home.charger
    task = None
    try:
        await agent.start()
        task = asyncio.create_task(agent.run())
        await station.wait_for(lambda: station.transaction_id is not None, 30)

        def applied() -> bool:
            sp = agent.last_setpoint
            return (sp is not None and agent.state is not None and agent.state.charger is not None
                    and any(p.profile_id == 2 for p in station.schedule.profiles.values())
                    and abs(station.limit_w - max(sp.ev_power_w, 0.0 if version == "1.6" else -1e9)) <= 70)
        await station.wait_for(applied, 60)
        reading = agent.state.charger
        assert reading.plugged
        assert reading.soc_pct == pytest.approx(home.car_soc_pct, abs=1.0)
        assert station.limit_w <= config.ev.max_charge_w           # the clamp held
    finally:
        if task is not None:
            agent.request_stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await agent.stop()
        store.close()
        await station.wait_for(lambda: not station.connected.is_set(), 15)   # the server stopped too
        await home.stop()
