"""The issue's acceptance tests on the real agent and the simulated home (hems.devices.sim.home,
built as `hems run` builds it), with the link, a real mosquitto (mutual TLS) and an aggregator."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timezone

import pytest

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.link import AggregatorLink
from hems.app import build_agent
from hems.config import DeviceConfig
from hems.devices.factory import build_devices
from hems.domain.clock import ScaledClock, SystemClock
from tests.aggregator.conftest import SITE, aggregator_settings, link_config
from tests.aggregator.test_resilience import wait_for
from tests.conftest import free_port
from tests.simhome import ROOT, HomeRig

START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)   # Tuesday 22:00 in Paris: the car is home


@asynccontextmanager
async def real_home(tmp_path, broker, hmac_key, speedup: float = 30.0):
    clock = ScaledClock(START, speedup=speedup)
    async with HomeRig(clock, START, tmp_path / "home", seed=1) as rig:
        rig.home.plant.plug(70.0)
        await rig.home.run(step_s=1.0)
        rig.agent_task = asyncio.get_running_loop().create_task(rig.agent.run())
        rig.link = AggregatorLink(link_config(broker, hmac_key[0], telemetry_interval_s=600), rig.agent,
                                  rig.store, clock)
        await rig.link.start()
        agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1], reply_verifier=hmac_key[1],
                               clock=clock)
        await agg.start()
        try:
            await wait_for(lambda: agg.status is not None and agg.status["state"] == "online", 20)
            await wait_for(lambda: agg.plan is not None, 60)
            yield rig, agg, clock
        finally:
            await agg.stop()
            await rig.link.stop()
            rig.agent_task.cancel()
            await asyncio.gather(rig.agent_task, return_exceptions=True)


async def read_back_setpoint_w(rig) -> float:
    cfg = DeviceConfig(name="probe", role="charger", profile="sunspec", transport="tcp", unit=1,
                       poll_interval_s=1, timeout_s=2, host="127.0.0.1", port=rig.home.ports["charger"])
    probe = build_devices([cfg])["probe"]
    await probe.connect()
    try:
        return (await probe.read()).setpoint_w
    finally:
        await probe.close()


async def test_dispatch_ends_as_a_setpoint_on_the_simulated_charger(tmp_path, broker, hmac_key):
    async with real_home(tmp_path, broker, hmac_key) as (rig, agg, clock):
        reply = await agg.send("event", start=clock.now(), duration_s=900, target_w=-5000)
        assert reply["status"] in ("accepted", "modified"), reply
        target = reply["delivered"]["min_ev_w"]
        assert target <= -4140                                  # a real discharge
        assert await read_back_setpoint_w(rig) == pytest.approx(target, abs=1)
        await wait_for(lambda: rig.home.plant.actual_w == pytest.approx(target, abs=50), 10)
        prices = await agg.send("prices", start=clock.now(), interval_s=900, price_per_kwh=[0.3] * 8)
        assert prices["status"] == "done", prices               # the agent replans with them
        # the owner raises the reserve above the car's SoC: more discharge is refused, and the
        # safety rules stop the running event's discharge at once
        await rig.agent.set_preferences(type(rig.agent.preferences)(reserve_pct=95.0), who="owner")
        deep = await agg.send("event", start=clock.now(), duration_s=900, target_w=-5000, priority=9)
        assert (deep["status"], deep["code"]) == ("rejected", "reserve"), deep
        assert await read_back_setpoint_w(rig) >= 0


async def test_broker_restart_during_an_event(tmp_path, broker, hmac_key):
    async with real_home(tmp_path, broker, hmac_key, speedup=60.0) as (rig, agg, clock):
        reply = await agg.send("event", start=clock.now(), duration_s=600, target_w=-5000)  # 10 s real
        assert reply["status"] in ("accepted", "modified"), reply
        target = reply["delivered"]["min_ev_w"]
        await asyncio.sleep(1.0)
        broker.stop()
        await wait_for(lambda: not rig.link.mqtt.connected.is_set())
        await asyncio.sleep(2.0)
        assert rig.home.plant.actual_w == pytest.approx(target, abs=50)   # the event runs on
        broker.start()
        settlement = await asyncio.wait_for(agg.settlements.get(), 30)
        assert settlement["event_id"] == reply["in_reply_to"] and not settlement["cancelled"]
        assert sum(i["metered_s"] for i in settlement["intervals"]) > 500
        assert settlement["total"]["ev_kwh"] == pytest.approx(target * 600 / 3.6e6, rel=0.1)


async def test_settlement_survives_agent_restarts(tmp_path, broker, hmac_key):
    async with real_home(tmp_path, broker, hmac_key, speedup=60.0) as (rig, agg, clock):
        reply = await agg.send("event", start=clock.now(), duration_s=480, target_w=-5000)  # 8 s real
        event_id = reply["in_reply_to"]
        await asyncio.sleep(2.0)
        # the agent restarts: link and agent stop, a new agent and link start on the same store
        await rig.link.stop()
        rig.agent_task.cancel()
        await asyncio.gather(rig.agent_task, return_exceptions=True)
        await rig.agent.stop()
        rig.store.close()
        rig.agent, rig.store, _ = build_agent(rig.config, clock)
        await rig.agent.start()
        rig.agent_task = asyncio.get_running_loop().create_task(rig.agent.run())
        broker.stop()                      # and the broker is away when the event ends
        rig.link = AggregatorLink(link_config(broker, hmac_key[0], telemetry_interval_s=600), rig.agent,
                                  rig.store, clock)
        await rig.link.start()
        assert event_id in {c.id for c in rig.agent.commitments}     # resumed after the restart
        await wait_for(lambda: rig.store.query("SELECT count(*) FROM agg_outbox")[0][0] == 1, 20)
        assert rig.store.query("SELECT acked_at FROM agg_outbox")[0][0] is None
        broker.start()
        settlement = await asyncio.wait_for(agg.settlements.get(), 30)
        assert settlement["event_id"] == event_id
        assert sum(i["metered_s"] for i in settlement["intervals"]) > 300   # both agents metered
        await wait_for(lambda: rig.store.query("SELECT acked_at FROM agg_outbox")[0][0] is not None, 20)


async def test_last_will_when_hems_run_is_killed(tmp_path, broker, hmac_key):
    from tests.test_run_cli import config_text
    from hems.demo import make_home
    from tests.simhome import sim_config

    base = sim_config(tmp_path / "unused")
    home = make_home(base, SystemClock(), datetime.now(timezone.utc), base.sim)
    home.ports = {"meter": 0, "pv": 0, "charger": 0}
    await home.start()
    await home.run(step_s=1.0)
    cfg = link_config(broker, hmac_key[0])
    text = config_text(home.ports, free_port(), tmp_path / "data") + f"""
[aggregator]
enabled = true
host = "127.0.0.1"
port = {broker.port}
tls = true
ca_file = "{cfg.ca_file}"
cert_file = "{cfg.cert_file}"
key_file = "{cfg.key_file}"
site_id = "{SITE}"
auth = "hmac"
auth_key_file = "{cfg.auth_key_file}"
telemetry_interval_s = 5
"""
    (tmp_path / "home.toml").write_text(text)
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1])
    await agg.start()
    proc = subprocess.Popen([sys.executable, "-m", "hems.cli", "run", "--config", str(tmp_path / "home.toml")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        await wait_for(lambda: agg.status is not None and agg.status["state"] == "online", 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        await wait_for(lambda: agg.status["state"] == "offline", 15)
        assert "reason" not in agg.status                 # the will, not a clean stop
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await agg.stop()
        await home.stop()
