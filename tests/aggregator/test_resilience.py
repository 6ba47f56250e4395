"""Broker restart during an event, the last will after kill -9, settlement across restarts."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.link import AggregatorLink
from hems.domain.clock import ScaledClock
from hems.store import Store
from tests.aggregator.conftest import SITE, aggregator_settings, link_config
from tests.aggregator.home import HomeAgent

ROOT = Path(__file__).resolve().parents[2]


async def wait_for(predicate, timeout_s: float = 10.0, step_s: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return
        await asyncio.sleep(step_s)
    raise AssertionError("condition not met in time")


async def run_home(agent: HomeAgent, seconds: float, step_s: float = 0.05) -> None:
    end = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < end:
        await agent.tick()
        await asyncio.sleep(step_s)


async def test_broker_restart_during_an_event(tmp_path, broker, hmac_key):
    clock = ScaledClock(datetime.now(timezone.utc), speedup=30.0)
    agent = HomeAgent(clock)
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    link = AggregatorLink(link_config(broker, hmac_key[0], telemetry_interval_s=600), agent, store, clock)
    await link.start()
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1], reply_verifier=hmac_key[1], clock=clock)
    await agg.start()
    await wait_for(lambda: agg.status is not None and agg.status["state"] == "online")
    try:
        reply = await agg.send("event", start=clock.now(), duration_s=240, target_w=-5000)  # 8 s real
        assert reply["status"] == "accepted"
        await run_home(agent, 1.0)
        broker.stop()
        await wait_for(lambda: not link.mqtt.connected.is_set())
        await run_home(agent, 2.0)                    # the event runs on while the link is down
        assert agent.ev_w == -5000 and "home-1" not in str(agent.commitments) and reply["in_reply_to"] in agent.commitments
        broker.start()
        await wait_for(lambda: link.mqtt.connected.is_set(), 15)
        await run_home(agent, 6.0)                    # the event ends; settlement goes out
        settlement = await asyncio.wait_for(agg.settlements.get(), 15)
        assert settlement["event_id"] == reply["in_reply_to"] and not settlement["cancelled"]
        covered = sum(i["metered_s"] for i in settlement["intervals"])
        assert covered > 200                          # metered through the outage (clock seconds)
        assert settlement["total"]["delivered_kwh"] < -0.25   # ~ -5 kW x 4 min = -0.33 kWh
        await wait_for(lambda: store.query("SELECT acked_at FROM agg_outbox")[0][0] is not None)
        assert agent.commitments == {} or clock.now() >= agent.commitments[reply["in_reply_to"]].end
    finally:
        await agg.stop()
        await link.stop()
        store.close()


async def test_last_will_after_kill_9(tmp_path, broker, hmac_key):
    settings = asdict(link_config(broker, hmac_key[0]))
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}
    settings["data_dir"] = str(tmp_path / "var")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tests.aggregator.run_link", json.dumps(settings)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1])
    await agg.start()
    try:
        try:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        except asyncio.TimeoutError:
            proc.kill()
            raise AssertionError(proc.stderr.read().decode()[-3000:])
        assert line.strip() == b"ready", proc.stderr.read()
        await wait_for(lambda: agg.status is not None and agg.status["state"] == "online")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        await wait_for(lambda: agg.status["state"] == "offline", 10)
        assert "reason" not in agg.status        # the will, not a clean stop
    finally:
        if proc.poll() is None:
            proc.kill()
        await agg.stop()


async def test_settlement_survives_agent_restarts_and_broker_outage(tmp_path, broker, hmac_key):
    clock = ScaledClock(datetime.now(timezone.utc), speedup=30.0)
    cfg = link_config(broker, hmac_key[0], telemetry_interval_s=600)
    db = tmp_path / "hems.sqlite"
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1], reply_verifier=hmac_key[1], clock=clock)
    await agg.start()

    agent1, store1 = HomeAgent(clock), Store(db, clock=clock)
    link1 = AggregatorLink(cfg, agent1, store1, clock)
    await link1.start()
    await wait_for(lambda: agg.status is not None and agg.status["state"] == "online")
    reply = await agg.send("event", start=clock.now(), duration_s=180, target_w=-5000)  # 6 s real
    event_id = reply["in_reply_to"]
    await run_home(agent1, 1.5)
    await link1.stop()                                 # the agent restarts mid-event
    store1.close()

    agent2, store2 = HomeAgent(clock), Store(db, clock=clock)
    link2 = AggregatorLink(cfg, agent2, store2, clock)
    await link2.start()
    assert event_id in agent2.commitments             # the accepted event runs on
    await run_home(agent2, 1.0)
    assert agent2.ev_w == -5000
    broker.stop()                                      # the broker goes away before the end
    await run_home(agent2, 5.0)                        # event ends: settlement cannot be sent
    rows = store2.query("SELECT acked_at FROM agg_outbox WHERE event_id = ?", (event_id,))
    assert rows and rows[0][0] is None
    await link2.stop()
    store2.close()

    broker.start()
    agent3, store3 = HomeAgent(clock), Store(db, clock=clock)
    link3 = AggregatorLink(cfg, agent3, store3, clock)
    await link3.start()
    try:
        settlement = await asyncio.wait_for(agg.settlements.get(), 20)
        assert settlement["event_id"] == event_id
        metered = sum(i["metered_s"] for i in settlement["intervals"])
        assert 100 < metered <= 180                     # both agent lifetimes were metered
        await wait_for(lambda: store3.query("SELECT acked_at FROM agg_outbox")[0][0] is not None)
        assert event_id not in agent3.commitments
    finally:
        await agg.stop()
        await link3.stop()
        store3.close()
