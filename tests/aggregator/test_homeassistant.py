"""Home Assistant discovery: retained configs for the sensors and controls; controls change the
owner's preferences, bad values are refused."""
from __future__ import annotations

import asyncio
import json

from hems.aggregator.link import AggregatorLink
from hems.aggregator.mqtt import MqttClient
from hems.domain import Mode
from hems.domain.clock import SystemClock
from hems.store import Store
from tests.aggregator.conftest import aggregator_settings, link_config
from tests.aggregator.home import HomeAgent


async def test_discovery_and_controls(tmp_path, broker, hmac_key):
    clock = SystemClock()
    agent = HomeAgent(clock)
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    link = AggregatorLink(link_config(broker, hmac_key[0], homeassistant_discovery=True), agent, store, clock)
    await link.start()
    ha = MqttClient(aggregator_settings(broker, client_id="home-assistant"))
    ha.subscribe("homeassistant/#")
    await ha.start()
    configs: dict[str, dict] = {}
    try:
        await asyncio.wait_for(ha.connected.wait(), 10)
        await asyncio.wait_for(link.mqtt.connected.wait(), 10)

        async def collect(seconds: float) -> None:
            end = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < end:
                try:
                    topic, payload, _ = await asyncio.wait_for(ha.messages.get(), 0.2)
                except asyncio.TimeoutError:
                    continue
                configs[topic] = json.loads(payload)

        await collect(2.0)
        soc = configs["homeassistant/sensor/hems_home-1/soc_pct/config"]
        assert soc["state_topic"] == "hems/v1/home-1/telemetry" and soc["device_class"] == "battery"
        assert soc["availability_topic"] == "hems/v1/home-1/status"
        mode = configs["homeassistant/select/hems_home-1/mode/config"]
        assert set(mode["options"]) == {m.value for m in Mode}

        ha.publish(mode["command_topic"], b"fast", qos=1)
        ha.publish("hems/v1/home-1/ha/set/reserve_pct", b"35", qos=1)
        ha.publish("hems/v1/home-1/ha/set/reserve_pct", b"95", qos=1)   # refused: outside 0..80
        ha.publish("hems/v1/home-1/ha/set/mode", b"turbo", qos=1)       # refused: not a mode
        for _ in range(100):
            if agent.preferences.mode is Mode.FAST and agent.preferences.reserve_pct == 35:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert agent.preferences.mode is Mode.FAST and agent.preferences.reserve_pct == 35
    finally:
        await ha.stop()
        await link.stop()
        store.close()
