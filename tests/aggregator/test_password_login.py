"""User name and password over TLS (no client certificate), and a wrong password is refused."""
from __future__ import annotations

import asyncio

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.link import AggregatorLink
from hems.aggregator.localbroker import Broker
from hems.aggregator.mqtt import BrokerSettings
from hems.domain.clock import SystemClock
from hems.store import Store
from tests.aggregator.conftest import SITE, link_config
from tests.aggregator.home import HomeAgent
from tests.aggregator.test_resilience import wait_for
from tests.conftest import free_port


async def test_login_with_password_over_tls(tmp_path, pki, hmac_key):
    broker = Broker(tmp_path / "broker", free_port(), pki, passwords={SITE: "home-secret", "agg": "agg-secret"})
    broker.start()
    clock = SystemClock()
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    (tmp_path / "pw").write_text("home-secret\n")
    (tmp_path / "bad").write_text("guess\n")
    agent = HomeAgent(clock)
    wrong = AggregatorLink(link_config(broker, hmac_key[0], cert_file=None, key_file=None, username=SITE,
                                       password_file=tmp_path / "bad", site_id="other"), agent, store, clock)
    link = AggregatorLink(link_config(broker, hmac_key[0], cert_file=None, key_file=None, username=SITE,
                                      password_file=tmp_path / "pw"), agent, store, clock)
    agg = AggregatorClient(BrokerSettings(host="127.0.0.1", port=broker.port, client_id="agg", tls=True,
                                          ca_file=str(pki.ca), username="agg", password="agg-secret"),
                           SITE, hmac_key[1], reply_verifier=hmac_key[1])
    try:
        await wrong.start()
        await link.start()
        await agg.start()
        await wait_for(lambda: agg.status is not None and agg.status["state"] == "online")
        reply = await agg.send("event", start=clock.now(), duration_s=600, target_w=-5000)
        assert reply["status"] == "accepted"
        await asyncio.sleep(1.0)
        assert not wrong.mqtt.connected.is_set()          # the broker refused the wrong password
    finally:
        await agg.stop()
        await link.stop()
        await wrong.stop()
        store.close()
        broker.stop()
