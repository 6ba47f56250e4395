"""The local broker's server certificate: valid for 127.0.0.1 and localhost, and for the extra
names a test asks for (a VM reaches the host's broker at another address)."""
from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from hems.aggregator.localbroker import Broker, make_pki
from tests.conftest import free_port


def handshake(broker: Broker, server_hostname: str) -> None:
    """A mutual-TLS handshake with the broker, checking its certificate for server_hostname."""
    ctx = broker.client_tls("site")
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname):
            pass


@pytest.fixture
def started(tmp_path: Path):
    brokers: list[Broker] = []

    def start(server_names: tuple[str, ...] = ()) -> Broker:
        pki = make_pki(tmp_path / f"pki{len(brokers)}", server_names=server_names)
        broker = Broker(tmp_path / f"broker{len(brokers)}", free_port(), pki)
        brokers.append(broker)
        broker.start()
        return broker

    yield start
    for b in brokers:
        b.stop()


def test_default_certificate_is_for_loopback_only(started):
    broker = started()
    handshake(broker, "127.0.0.1")
    handshake(broker, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(broker, "10.0.2.100")


def test_extra_server_names_pass_the_hostname_check(started):
    broker = started(("10.0.2.100", "broker.test"))
    handshake(broker, "10.0.2.100")
    handshake(broker, "broker.test")
    handshake(broker, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(broker, "10.0.2.101")
