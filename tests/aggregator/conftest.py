"""Fixtures: TLS material, a real mosquitto on a random loopback port, keys, link config."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from hems.aggregator.auth import HmacKey
from hems.aggregator.mqtt import BrokerSettings
from hems.config import AggregatorConfig
from hems.aggregator.localbroker import Broker, make_pki
from tests.conftest import free_port

SITE = "home-1"


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def broker(tmp_path, pki):
    b = Broker(tmp_path / "broker", free_port(), pki)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def hmac_key(tmp_path) -> tuple[Path, HmacKey]:
    raw = secrets.token_bytes(32)
    path = tmp_path / "site.key"
    path.write_text(raw.hex() + "\n")
    return path, HmacKey(raw)


def link_config(broker: Broker, auth_key: Path, **kw) -> AggregatorConfig:
    cert, key = broker.pki.pair("site")
    values = dict(enabled=True, host="127.0.0.1", port=broker.port, tls=True, ca_file=broker.pki.ca,
                  cert_file=cert, key_file=key, username=None, password_file=None, site_id=SITE,
                  topic_prefix="hems/v1", auth="hmac", auth_key_file=auth_key, telemetry_interval_s=1.0,
                  homeassistant_discovery=False)
    values.update(kw)
    return AggregatorConfig(**values)


def aggregator_settings(broker: Broker, client_id: str = "aggregator-1") -> BrokerSettings:
    cert, key = broker.pki.pair("aggregator")
    return BrokerSettings(host="127.0.0.1", port=broker.port, client_id=client_id, tls=True,
                          ca_file=str(broker.pki.ca), cert_file=str(cert), key_file=str(key))
