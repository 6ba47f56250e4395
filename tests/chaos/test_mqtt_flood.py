"""Findings 4 and 5 over a real broker: hostile unsigned payloads are refused without a
traceback and within the refusal log limit, and a signed dispatch sent in the middle of a flood
of 10,000 junk messages is answered (the junk is what gets dropped)."""
from __future__ import annotations

import asyncio
import json
import logging
import math

import pytest

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.auth import HmacKey
from hems.aggregator.link import REFUSALS_LOGGED, AggregatorLink
from hems.aggregator.messages import seal_dispatch
from hems.domain.clock import SystemClock
from hems.store import Store
from tests.aggregator.conftest import SITE, aggregator_settings, link_config
from tests.aggregator.home import HomeAgent

HOSTILE = [
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":' + b'{"a":' * 1500 + b"1" + b"}" * 1501,
    b"[" * 5_000 + b"]" * 5_000,
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":"\\ud800"}',
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":"{\\"id\\": \\"\\udc00\\"}"}',
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":"{}","x":NaN}',
    b"\xff\xfe\x00",
]


@pytest.fixture
async def home(tmp_path, broker, hmac_key):
    clock = SystemClock()
    agent = HomeAgent(clock)
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    link = AggregatorLink(link_config(broker, hmac_key[0], telemetry_interval_s=600), agent, store, clock)
    await link.start()
    agg = AggregatorClient(aggregator_settings(broker), SITE, hmac_key[1], reply_verifier=hmac_key[1])
    flood = AggregatorClient(aggregator_settings(broker, "flooder"), SITE, HmacKey(b"w" * 32))
    await agg.start()
    await flood.start()
    await asyncio.wait_for(link.mqtt.connected.wait(), 10)
    for _ in range(100):
        if agg.status is not None and agg.status["state"] == "online":
            break
        await asyncio.sleep(0.05)
    yield agent, link, agg, flood, store
    await flood.stop()
    await agg.stop()
    await link.stop()
    store.close()


async def wait_idle(link, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if link.mqtt.messages.empty():
            await asyncio.sleep(0.2)
            if link.mqtt.messages.empty():
                return
        await asyncio.sleep(0.05)


async def test_hostile_unsigned_payloads_are_refused_cleanly_within_the_log_limit(home, caplog):
    agent, link, agg, flood, store = home
    with caplog.at_level(logging.WARNING):
        for i in range(200):
            flood.publish_raw(HOSTILE[i % len(HOSTILE)], correlation=f"h-{i}".encode())
        await asyncio.sleep(0.5)
        await wait_idle(link)
        reply = await agg.send("event", start=link.clock.now(), duration_s=600, target_w=-5000)
    assert reply["status"] == "accepted", (reply["code"], reply["reason"])
    assert not any(r.exc_info for r in caplog.records), "a hostile payload raised"
    link_lines = [r for r in caplog.records if r.name.startswith("hems.aggregator")]
    assert len(link_lines) <= REFUSALS_LOGGED + 2, [r.getMessage()[:120] for r in link_lines]
    refused = store.query("SELECT code, reason FROM agg_log WHERE status = 'refused'")
    assert 0 < len(refused) <= REFUSALS_LOGGED
    reasons = " ".join(r[1] for r in refused)
    assert "deeply" in reasons and "surrogate" in reasons and "non-finite" in reasons
    answered = [r for r in flood.replies if r.get("status") == "refused"]
    assert answered and all(r["code"] == "malformed" for r in answered)


@pytest.mark.parametrize("junk", ["unsigned", "wrong_key"])
async def test_a_signed_dispatch_in_a_flood_of_10000_junk_messages_is_answered(home, junk):
    agent, link, agg, flood, store = home
    now = link.clock.now()
    valid = None
    for i in range(10_000):
        if junk == "unsigned":
            payload = json.dumps({"v": 1, "alg": "hmac-sha256", "msg": json.dumps({"n": i}), "sig": "AA=="}).encode()
        else:
            payload = seal_dispatch(flood.message("event", start=now, duration_s=600, target_w=-1000), flood.signer)
        flood.mqtt._client.publish(flood.topics.dispatch, payload, qos=0)
        if i == 5_000:
            valid = asyncio.ensure_future(agg.send("event", start=now, duration_s=600, target_w=-5000, timeout_s=60))
        if i % 250 == 0:
            await asyncio.sleep(0)
    reply = await valid
    assert reply["status"] == "accepted", (reply["code"], reply["reason"])
    assert agent.commitments and reply["in_reply_to"] in agent.commitments
    assert link.mqtt.messages.dropped[0] == 0          # no signed message was dropped by the home
    await wait_idle(link)


async def test_random_mqtt_payloads_over_the_broker(home, caplog):
    """A bounded random MQTT fuzz: mutated signed dispatch, junk envelopes, hostile JSON, bytes."""
    from tests.robustness.fuzz import Fuzzer
    agent, link, agg, flood, store = home
    fuzz = Fuzzer(seed=5)
    signed = seal_dispatch(agg.message("event", start=link.clock.now(), duration_s=600, target_w=-3000), agg.signer)
    with caplog.at_level(logging.WARNING):
        for i in range(2000):
            flood.publish_raw(fuzz.mqtt_payload(signed)[:16_000], correlation=f"f-{i}".encode())
            if i % 200 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0.5)
        await wait_idle(link)
        reply = await agg.send("event", start=link.clock.now(), duration_s=600, target_w=-5000)
    assert reply["status"] == "accepted", (reply["code"], reply["reason"])
    assert not any(r.exc_info for r in caplog.records), "a fuzzed payload raised"
    assert link.mqtt.messages.received[1] >= 500           # the junk reached the link (a loaded broker may drop some to a slow reader)
    for c in agent.commitments.values():
        assert all(math.isfinite(v) for v in (c.min_ev_w, c.max_ev_w))
