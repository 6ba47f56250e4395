"""The host-side aggregator of the VM tests, without a VM: its [aggregator] table and files make
a config that hems accepts as the box would install it (files next to config.toml, as hems-setup
copies hems/ to /etc/hems), and the broker's certificate is valid for the guest's address."""
from __future__ import annotations

import socket
from pathlib import Path


from hems.config import load_config

from guest_aggregator import GUEST_BROKER_IP, GUEST_BROKER_PORT, SITE_ID, GuestAggregator
from test_image_boot import site_config


def test_the_box_config_enrols_with_the_guest_aggregator(aggregator: GuestAggregator, tmp_path: Path):
    etc = tmp_path / "etc-hems"
    etc.mkdir()
    for name, data in aggregator.site_files().items():
        (etc / name).write_bytes(data)
    (etc / "config.toml").write_text(site_config() + aggregator.config_toml())
    link = load_config(etc / "config.toml").aggregator
    assert link is not None and link.enabled and link.tls and link.auth == "hmac"
    assert (link.host, link.port, link.site_id) == (GUEST_BROKER_IP, GUEST_BROKER_PORT, SITE_ID)
    assert link.ca_file == etc / "aggregator-ca.pem" and link.auth_key_file == etc / "aggregator.key"


def test_the_broker_answers_tls_for_the_guest_address(aggregator: GuestAggregator):
    ctx = aggregator.broker.client_tls("site")
    with socket.create_connection(("127.0.0.1", aggregator.forward().host_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=GUEST_BROKER_IP) as tls:
            assert tls.getpeercert()["subject"] == ((("commonName", "server"),),)
    assert aggregator.client is not None and aggregator.client.mqtt.connected.is_set()
