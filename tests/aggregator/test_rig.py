"""End to end on the agent `hems run` builds: the simulated home's SunSpec meter, PV and charger
over Modbus TCP, the real forecaster and planner, the link, a real mosquitto with mutual TLS
(tests/aggregator/rig.py, the benchmarks' rig)."""
from __future__ import annotations

import asyncio

import pytest

from hems.config import DeviceConfig
from hems.devices.factory import build_devices
from tests.aggregator.rig import AggregatorRig


@pytest.fixture
async def sim(tmp_path):
    async with AggregatorRig(tmp_path / "home") as rig:
        yield rig


async def read_back_setpoint_w(rig: AggregatorRig) -> float:
    """A separate driver reads the charger over Modbus."""
    cfg = DeviceConfig(name="probe", role="charger", profile="sunspec", transport="tcp", unit=1,
                       poll_interval_s=1, timeout_s=2, host="127.0.0.1", port=rig.home.ports["charger"])
    probe = build_devices([cfg])["probe"]
    await probe.connect()
    try:
        return (await probe.read()).setpoint_w
    finally:
        await probe.close()


async def test_the_rig_runs_the_agent_hems_run_builds(sim):
    assert sim.config.tariff.kind == "fixed"
    assert sim.agent.config.aggregator.port == sim.broker.port
    assert sim.aggregator.status["state"] == "online"
    assert sim.home.car_plugged and sim.home.car_soc_pct == pytest.approx(60.0, abs=1)


async def test_dispatch_ends_as_a_setpoint_on_the_charger(sim):
    agg = sim.aggregator
    for _ in range(400):
        if agg.plan is not None:
            break
        await asyncio.sleep(0.05)
    assert agg.plan is not None and max(agg.plan["down_w"]) > 0
    reply = await agg.send("event", start=sim.clock.now(), duration_s=900, target_w=-6000)
    assert reply["status"] == "accepted", reply
    assert await read_back_setpoint_w(sim) == -6000
    for _ in range(60):
        if sim.plant.actual_w <= -5900:
            break
        await asyncio.sleep(0.1)
    assert sim.plant.actual_w == pytest.approx(-6000, abs=100)    # the car discharges
    await asyncio.sleep(3.0)                                          # a few polls metered
    cancel = await agg.send("cancel", target_id=reply["in_reply_to"])
    assert cancel["status"] == "done"
    settlement = await asyncio.wait_for(agg.settlements.get(), 10)
    # ~3-5 s at -6 kW against a baseline of at most what the plan would charge
    assert settlement["total"]["ev_kwh"] < -0.002, settlement
    assert settlement["total"]["delivered_kwh"] < 0


async def test_over_the_reserve_is_rejected_by_the_real_agent(sim):
    await sim.agent.set_preferences(type(sim.agent.preferences)(reserve_pct=70.0), who="owner")
    reply = await sim.aggregator.send("event", start=sim.clock.now(), duration_s=900, target_w=-6000)
    assert (reply["status"], reply["code"]) == ("rejected", "reserve"), reply
    assert await read_back_setpoint_w(sim) >= 0


async def _setpoint(agent, predicate, timeout_s: float = 15.0):
    """The next setpoint the agent writes that satisfies predicate (or the present one)."""
    if agent.last_setpoint is not None and predicate(agent.last_setpoint):
        return agent.last_setpoint
    found = asyncio.get_running_loop().create_future()

    def on(topic, payload):
        if topic == "setpoint" and predicate(payload) and not found.done():
            found.set_result(payload)
    unsubscribe = agent.subscribe(on)
    try:
        return await asyncio.wait_for(found, timeout_s)
    finally:
        unsubscribe()


async def test_clearing_the_default_control_ends_it_at_once(sim):
    """A signed `default` without fields clears the default control: the owner's Fast mode
    charges at full power again at once, not after 24 h."""
    from dataclasses import replace

    from hems.domain import Mode

    agent = sim.agent
    await agent.set_preferences(replace(agent.preferences, mode=Mode.FAST), who="owner")
    full = await _setpoint(agent, lambda sp: sp.ev_power_w > 8000)
    reply = await sim.aggregator.send("default", import_limit_w=2000)
    assert reply["status"] == "done", reply
    assert "default" in {c.id for c in agent.commitments}
    limited = await _setpoint(agent, lambda sp: sp.ev_power_w < full.ev_power_w - 4000)
    assert "aggregator" in limited.reason
    reply = await sim.aggregator.send("default")
    assert (reply["status"], reply["reason"]) == ("done", "default control cleared"), reply
    assert "default" not in {c.id for c in agent.commitments}
    again = await _setpoint(agent, lambda sp: sp.ev_power_w > 8000)
    assert "aggregator" not in again.reason
