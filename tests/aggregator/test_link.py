"""The link against a real mosquitto (mutual TLS) and an in-test agent with the real safety clamp."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.link import AggregatorLink
from hems.aggregator.messages import schema_error, seal_dispatch
from hems.domain.clock import SystemClock
from hems.store import Store
from tests.aggregator.conftest import SITE, aggregator_settings, link_config
from tests.aggregator.home import HomeAgent


@pytest.fixture
async def home(tmp_path, broker, hmac_key):
    clock = SystemClock()
    agent = HomeAgent(clock)
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    link = AggregatorLink(link_config(broker, hmac_key[0]), agent, store, clock)
    await link.start()
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1], reply_verifier=hmac_key[1])
    await agg.start()
    await asyncio.wait_for(link.mqtt.connected.wait(), 10)
    for _ in range(100):   # the retained status comes after the home subscribed to dispatch
        if agg.status is not None and agg.status["state"] == "online":
            break
        await asyncio.sleep(0.05)
    yield agent, link, agg, store
    await agg.stop()
    await link.stop()
    store.close()


async def test_event_is_accepted_and_reaches_the_charger(home):
    agent, link, agg, store = home
    now = link.clock.now()
    reply = await agg.send("event", start=now, duration_s=600, target_w=-5000)
    assert reply["status"] == "accepted", reply
    assert reply["delivered"]["min_ev_w"] == -5000
    assert schema_error("reply", reply) is None
    assert agent.written[-1][1] == -5000
    assert store.query("SELECT status FROM agg_log")[-1][0] == "accepted"


@pytest.mark.parametrize("mutate,code", [
    (lambda m, k: seal_dispatch(m, k)[:-5], "malformed"),
    (lambda m, k: seal_dispatch(dict(m, target_w=-9999), k).replace(b"-9999", b"-1000"), "bad_signature"),
    (lambda m, k: b"x" * 20000, "too_large"),
    (lambda m, k: seal_dispatch(dict(m, duration_s="long"), k), "schema"),
    (lambda m, k: seal_dispatch(dict(m, site_id="home-2"), k), "wrong_site"),
])
async def test_refusals_answer_with_the_reason(home, mutate, code):
    agent, link, agg, store = home
    msg = agg.message("event", start=link.clock.now(), duration_s=600, target_w=-3000)
    reply = await agg.send_raw(mutate(msg, agg.signer), msg["id"].encode())
    assert (reply["status"], reply["code"]) == ("refused", code), reply
    assert reply["reason"]
    assert agent.commitments == {}
    assert store.query("SELECT code FROM agg_log")[-1][0] == code


async def test_expired_and_replayed_are_refused(home):
    agent, link, agg, store = home
    now = link.clock.now()
    old = agg.message("event", start=now, duration_s=600, target_w=-3000)
    old["issued_at"] = (now - timedelta(hours=2)).isoformat()
    old["expires_at"] = (now - timedelta(hours=1)).isoformat()
    reply = await agg.send_raw(seal_dispatch(old, agg.signer), b"old")
    assert reply["code"] == "expired"
    msg = agg.message("event", start=now, duration_s=600, target_w=-5000)
    first = await agg.send_raw(seal_dispatch(msg, agg.signer), b"a")
    again = await agg.send_raw(seal_dispatch(msg, agg.signer), b"b")
    assert first["status"] == "accepted" and (again["status"], again["code"]) == ("refused", "replayed")


async def test_discharge_below_the_reserve_is_rejected(home):
    agent, link, agg, store = home
    agent.soc_pct = 19.0
    reply = await agg.send("event", start=link.clock.now(), duration_s=600, target_w=-4000)
    assert (reply["status"], reply["code"]) == ("rejected", "reserve"), reply
    assert "reserve" in reply["reason"] and agent.commitments == {}


async def test_regulation_band_then_signals_move_the_charger(home):
    agent, link, agg, store = home
    reply = await agg.send("regulation", start=link.clock.now(), duration_s=900, band_w=5000, center_w=0)
    assert reply["status"] == "accepted", reply
    reg_id = reply["in_reply_to"]
    seen = []
    for s in (1.0, -1.0, 0.9):
        r = await agg.send("regulation_signal", regulation_id=reg_id, signal=s)
        assert r["status"] == "done", r
        seen.append(r["delivered"]["ev_power_w"])
    assert seen == [5000, -5000, 4500]
    assert agent.written[-1][1] == 4500


async def test_cancel_settles_and_settlement_is_acked(home):
    agent, link, agg, store = home
    start = link.clock.now()
    reply = await agg.send("event", start=start, duration_s=3600, target_w=-5000)
    for _ in range(6):
        await agent.tick()
        await asyncio.sleep(0.2)
    cancel = await agg.send("cancel", target_id=reply["in_reply_to"])
    assert cancel["status"] == "done"
    assert agent.commitments == {}
    settlement = await asyncio.wait_for(agg.settlements.get(), 10)
    assert settlement["event_id"] == reply["in_reply_to"] and settlement["cancelled"]
    assert schema_error("settlement", settlement) is None
    total = settlement["total"]
    # ~1 s of -5 kW metered, baseline 0 W: delivered is negative (less consumed), a few Wh
    assert -0.003 < total["delivered_kwh"] < -0.0005, settlement
    for _ in range(50):
        if store.query("SELECT acked_at FROM agg_outbox")[0][0] is not None:
            break
        await asyncio.sleep(0.1)
    assert store.query("SELECT acked_at FROM agg_outbox")[0][0] is not None


async def test_status_online_retained_and_telemetry(home):
    agent, link, agg, store = home
    tele = await asyncio.wait_for(agg.telemetry.get(), 5)
    assert tele["site_id"] == SITE and tele["soc_pct"] == 60.0 and tele["plugged"] is True
    for _ in range(50):
        if agg.status:
            break
        await asyncio.sleep(0.1)
    assert agg.status["state"] == "online"
    assert agg.plan is not None and len(agg.plan["up_w"]) == 48
    assert schema_error("telemetry", tele) is None and schema_error("plan", agg.plan) is None
    assert schema_error("status", agg.status) is None


async def test_cli_sends_an_event_and_prints_the_reply(home, broker, hmac_key, tmp_path):
    import subprocess
    import sys

    agent, link, agg, store = home
    cert, key = broker.pki.pair("aggregator")
    cmd = [sys.executable, "-m", "hems.cli", "aggregator", "event", "--host", "127.0.0.1",
           "--port", str(broker.port), "--ca", str(broker.pki.ca), "--cert", str(cert), "--key", str(key),
           "--site", SITE, "--hmac-key", str(hmac_key[0]), "--target-w", "-4500", "--duration", "600",
           "--client-id", "cli-test"]
    out = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout.split("reply: ", 1)[1])
    assert reply["status"] == "accepted" and agent.written[-1][1] == -4500


def test_cli_keygen(tmp_path):
    import subprocess
    import sys

    from hems.aggregator.auth import Ed25519PublicKey, HmacKey

    for extra in ([], ["--ed25519"]):
        out = subprocess.run([sys.executable, "-m", "hems.cli", "aggregator", "keygen", "--out",
                              str(tmp_path / "k"), *extra], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
    assert HmacKey.from_file(tmp_path / "k")
    assert Ed25519PublicKey.from_file(tmp_path / "k.pub")


async def test_cli_watch_prints_status_and_telemetry(home, broker, hmac_key):
    import subprocess
    import sys

    cert, key = broker.pki.pair("aggregator")
    cmd = [sys.executable, "-m", "hems.cli", "aggregator", "watch", "--seconds", "3", "--host", "127.0.0.1",
           "--port", str(broker.port), "--ca", str(broker.pki.ca), "--cert", str(cert), "--key", str(key),
           "--site", SITE, "--hmac-key", str(hmac_key[0]), "--client-id", "cli-watch"]
    out = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert '"state": "online"' in out.stdout and "telemetry: " in out.stdout and "plan: from" in out.stdout


async def test_every_dispatch_kind_of_the_schema_has_a_route(home):
    from hems.aggregator.messages import validator

    agent, link, agg, store = home
    kinds = set(validator("dispatch").schema["properties"]["kind"]["enum"])
    assert kinds and kinds == set(link.routes())


async def test_a_kind_without_a_route_is_refused_not_taken_for_default(home, monkeypatch):
    agent, link, agg, store = home
    assert (await agg.send("default", import_limit_w=1000))["status"] == "done"
    routes = link.routes()
    monkeypatch.setattr(link, "routes", lambda: {k: v for k, v in routes.items() if k != "cancel"})
    reply = await agg.send("cancel", target_id="nothing")
    assert (reply["status"], reply["code"]) == ("refused", "unsupported_kind"), reply
    assert "default" in agent.commitments          # the default control is still in force
