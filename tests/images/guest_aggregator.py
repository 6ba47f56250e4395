"""A host-side aggregator for a VM: a real mosquitto (mutual TLS) on a free 127.0.0.1 port that
the guest reaches at 10.0.2.100 through a QEMU guest forward, the site's files and [aggregator]
table for the card, and an AggregatorClient driven from synchronous tests (its own asyncio loop
in a background thread)."""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Coroutine

import pytest

from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.auth import HmacKey
from hems.aggregator.messages import parse_time
from hems.aggregator.localbroker import Broker, make_pki
from hems.aggregator.mqtt import BrokerSettings
from tests.conftest import free_port

from image_vm import GuestForward, mcopy_in

GUEST_BROKER_IP = "10.0.2.100"   # in QEMU's user network, the address the guest forward listens on
GUEST_BROKER_PORT = 8883
SITE_ID = "vm-home"
# the site's files under hems/ on the boot partition (hems-setup copies them to /etc/hems)
CA_FILE, CERT_FILE, KEY_FILE, AUTH_KEY_FILE = "aggregator-ca.pem", "site.pem", "site.key", "aggregator.key"

LINK_TIMEOUT_S = 180          # hems started -> connected (after the boot itself)
# Without devices the VM has no car: an event that starts at once is refused ("unplugged"), and
# a target power cannot be met (no state of charge, no room to charge). A site import limit
# that starts a little later is what such a home accepts (EV held at 0 W).
EVENT_LEAD_S = 30
IMPORT_LIMIT_W = 3000.0
# Two events back to back: the first ends while the box is off (settled as it starts again),
# the second normally after it is back (resumed, then settled at its end).
DURATIONS_S = (60, 150)


class _Client(AggregatorClient):
    """AggregatorClient that also keeps every status the home published, with when it arrived,
    and tells waiting threads about new statuses and plans."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.statuses: list[tuple[float, dict[str, Any]]] = []   # (monotonic s, status)
        self.changed = threading.Condition()

    def _on_message(self, topic: str, payload: bytes, props: Any) -> None:
        super()._on_message(topic, payload, props)
        if topic not in (self.topics.status, self.topics.plan):
            return
        with self.changed:
            if topic == self.topics.status and self.status is not None:
                self.statuses.append((time.monotonic(), self.status))
            self.changed.notify_all()


class GuestAggregator:
    """The aggregator end of one VM's link. start() before the VM boots, stop() at the end."""

    def __init__(self, workdir: Path, site_id: str = SITE_ID) -> None:
        self.site_id = site_id
        self.pki = make_pki(workdir / "pki", server_names=(GUEST_BROKER_IP,))
        self.broker = Broker(workdir / "broker", free_port(), self.pki)
        raw_key = secrets.token_bytes(32)
        self.key = HmacKey(raw_key)
        self._key_hex = raw_key.hex()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="guest-aggregator", daemon=True)
        self.client: _Client | None = None
        self.settlements: list[dict[str, Any]] = []

    # --- the card ---------------------------------------------------------------------
    def forward(self) -> GuestForward:
        """For power_on(forwards=...): the guest's 10.0.2.100:8883 is this broker."""
        return GuestForward(GUEST_BROKER_IP, GUEST_BROKER_PORT, self.broker.port)

    def site_files(self) -> dict[str, bytes]:
        """File name -> contents, to put under hems/ on the boot partition."""
        cert, key = self.pki.pair("site")
        return {CA_FILE: self.pki.ca.read_bytes(), CERT_FILE: cert.read_bytes(), KEY_FILE: key.read_bytes(),
                AUTH_KEY_FILE: (self._key_hex + "\n").encode()}

    def config_toml(self, telemetry_interval_s: int = 10, host: str = GUEST_BROKER_IP,
                    port: int = GUEST_BROKER_PORT) -> str:
        """The [aggregator] table of the box's config.toml (paths relative to /etc/hems)."""
        return (f'\n[aggregator]\nenabled = true\nhost = "{host}"\nport = {port}\n'
                f'tls = true\nca_file = "{CA_FILE}"\ncert_file = "{CERT_FILE}"\nkey_file = "{KEY_FILE}"\n'
                f'site_id = "{self.site_id}"\nauth = "hmac"\nauth_key_file = "{AUTH_KEY_FILE}"\n'
                f"telemetry_interval_s = {telemetry_interval_s}\n")

    def install(self, disk: Path, boot_offset_b: int, tmp: Path) -> None:
        """Copy the site's files onto the card's boot partition (hems/)."""
        for name, data in self.site_files().items():
            mcopy_in(disk, boot_offset_b, data, f"hems/{name}", tmp)

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        self.broker.start()
        self._thread.start()
        cert, key = self.pki.pair("aggregator")
        settings = BrokerSettings(host="127.0.0.1", port=self.broker.port, client_id="aggregator-vm",
                                  tls=True, ca_file=str(self.pki.ca), cert_file=str(cert), key_file=str(key))
        self.client = self._run(self._make_client(settings), 30)

    async def _make_client(self, settings: BrokerSettings) -> _Client:
        client = _Client(settings, self.site_id, self.key, reply_verifier=self.key)
        await client.start()
        return client

    def stop(self) -> None:
        try:
            if self.client is not None:
                self._run(self.client.stop(), 10)
                self.client = None
        finally:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(10)
                self._loop.close()
            self.broker.stop()

    def _run(self, coro: Coroutine[Any, Any, Any], timeout_s: float) -> Any:
        future: Future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout_s)

    # --- talking to the home ------------------------------------------------------------
    def wait_online(self, timeout_s: float, since: float | None = None) -> dict[str, Any]:
        """The home's status "online", received after `since` (monotonic s; None: any, also a
        retained one)."""
        assert self.client is not None

        def found() -> dict[str, Any] | None:
            for at, status in reversed(self.client.statuses):
                if since is not None and at < since:
                    return None
                if status.get("state") == "online":
                    return status
            return None

        with self.client.changed:
            status = self.client.changed.wait_for(found, timeout_s)
        assert status, (f"the home was not online within {timeout_s:.0f} s; statuses: "
                        f"{[s for _, s in self.client.statuses]}\n--- broker log ---\n"
                        + self.broker.log_path.read_text(errors="replace")[-3000:])
        return status

    def wait_plan(self, timeout_s: float) -> dict[str, Any]:
        """The home's plan (it answers events only once it has one)."""
        assert self.client is not None
        with self.client.changed:
            plan = self.client.changed.wait_for(lambda: self.client.plan, timeout_s)
        assert plan, f"the home published no plan within {timeout_s:.0f} s"
        return plan

    def send_event(self, start: datetime, duration_s: int, timeout_s: float = 60, **limits: float) -> dict[str, Any]:
        """One signed event (target_w=..., or import_limit_w / export_limit_w); the home's reply."""
        assert self.client is not None
        return self._run(self.client.send("event", timeout_s=timeout_s, start=start, duration_s=duration_s,
                                          **limits), timeout_s + 5)

    def wait_settlement(self, event_id: str, timeout_s: float) -> dict[str, Any]:
        """The (signature-checked) settlement of event_id, however long ago it arrived."""
        assert self.client is not None
        return self._run(self._settlement(event_id, timeout_s), timeout_s + 5)

    async def _settlement(self, event_id: str, timeout_s: float) -> dict[str, Any]:
        assert self.client is not None
        deadline = time.monotonic() + timeout_s
        while True:
            for msg in self.settlements:
                if msg.get("event_id") == event_id:
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no settlement of {event_id} within {timeout_s:.0f} s "
                                     f"(got {[m.get('event_id') for m in self.settlements]})")
            try:
                self.settlements.append(await asyncio.wait_for(self.client.settlements.get(), left))
            except asyncio.TimeoutError:
                continue


# --- what a home in the VM accepts, and what it must settle -------------------------------
def accept_events(agg: GuestAggregator, durations_s: tuple[int, ...]) -> list[dict[str, Any]]:
    """Back-to-back events the box accepts (see EVENT_LEAD_S), the first starting soon; their
    replies."""
    agg.wait_plan(LINK_TIMEOUT_S)
    start = datetime.now(timezone.utc) + timedelta(seconds=EVENT_LEAD_S)
    replies = []
    for duration_s in durations_s:
        reply = agg.send_event(start, duration_s, import_limit_w=IMPORT_LIMIT_W)
        assert reply["status"] in ("accepted", "modified"), reply
        replies.append(reply)
        start += timedelta(seconds=duration_s)
    return replies


def window(reply: dict[str, Any]) -> tuple[datetime, datetime]:
    """The start and end the box accepted."""
    return parse_time(reply["delivered"]["start"]), parse_time(reply["delivered"]["end"])


def check_settlement(settlement: dict[str, Any], reply: dict[str, Any]) -> None:
    """The settlement covers the window the box accepted, to its end."""
    delivered = reply["delivered"]
    start, end = window(reply)
    assert settlement["event_id"] == reply["in_reply_to"]
    assert settlement["start"] == delivered["start"] and settlement["end"] == delivered["end"], (settlement, reply)
    assert settlement["cancelled"] is False
    assert sum(i["duration_s"] for i in settlement["intervals"]) == pytest.approx((end - start).total_seconds(),
                                                                                 abs=0.01)
