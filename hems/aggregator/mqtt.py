"""paho-mqtt 2.x (MQTT v5) bridged into asyncio: the only module that imports paho.

paho runs its network thread (loop_start): it reconnects by itself with backoff, keeps the
session (clean_start False + a session expiry), and resends unacknowledged QoS 1 messages
after a reconnect. Callbacks hop onto the asyncio loop with call_soon_threadsafe.

Incoming messages wait in an `Inbox` of two bounded lanes. With a `triage` function (run on
paho's thread, cheap: it checks a signature, nothing more) messages that pass go to the
priority lane and are handled first; the rest share a smaller lane whose overflow is dropped.
A flood of unverifiable junk therefore never pushes out a signed dispatch.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

Message = tuple[str, bytes, Any]      # topic, payload, paho Properties (or None)
Triage = Callable[[str, bytes], bool]  # (topic, payload) -> handle first? Runs on paho's thread.


class Inbox:
    """Two bounded FIFO lanes, priority first; used on the event loop thread only."""

    def __init__(self, priority_max: int = 1000, other_max: int = 200) -> None:
        self._lanes = (deque(), deque())
        self._max = (priority_max, other_max)
        self._ready = asyncio.Event()
        self.dropped = [0, 0]                 # [priority, other] messages dropped when full
        self.received = [0, 0]                # [priority, other] messages taken in

    def put_nowait(self, item: Message, priority: bool = False) -> bool:
        lane = 0 if priority else 1
        self.received[lane] += 1
        if len(self._lanes[lane]) >= self._max[lane]:
            self.dropped[lane] += 1
            return False
        self._lanes[lane].append(item)
        self._ready.set()
        return True

    def qsize(self) -> int:
        return len(self._lanes[0]) + len(self._lanes[1])

    def empty(self) -> bool:
        return self.qsize() == 0

    def get_nowait(self) -> Message:
        for lane in self._lanes:
            if lane:
                return lane.popleft()
        raise asyncio.QueueEmpty

    async def get(self) -> Message:
        while self.empty():
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    client_id: str
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None      # client certificate (mutual TLS)
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    reconnect_min_s: int = 1
    reconnect_max_s: int = 60


class MqttClient:
    def __init__(self, settings: BrokerSettings, *, will: tuple[str, bytes, int, bool] | None = None,
                 on_connect: Callable[[], Awaitable[None]] | None = None, triage: Triage | None = None) -> None:
        self.settings = settings
        self._triage = triage
        self.messages = Inbox(other_max=200 if triage is not None else 1000)
        self.connected = asyncio.Event()
        self._on_connect_cb = on_connect
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscriptions: list[tuple[str, int]] = []
        self._ack_callbacks: dict[int, Callable[[bool], None]] = {}
        self.dropped = 0
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                        protocol=paho.MQTTv5)
        if settings.tls:
            c.tls_set(ca_certs=settings.ca_file, certfile=settings.cert_file, keyfile=settings.key_file,
                      cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if settings.username:
            c.username_pw_set(settings.username, settings.password)
        if will is not None:
            topic, payload, qos, retain = will
            c.will_set(topic, payload, qos=qos, retain=retain)
        c.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_socket_open = self._on_socket_open
        self._client = c

    # --- lifecycle ---
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        self._client.connect_async(self.settings.host, self.settings.port,
                                   keepalive=self.settings.keepalive_s, clean_start=False,
                                   properties=props)
        self._client.loop_start()

    async def stop(self) -> None:
        """Clean disconnect (the broker does not fire the will) and stop the network thread."""
        try:
            self._client.disconnect()
        finally:
            await asyncio.to_thread(self._client.loop_stop)
        self.connected.clear()

    def kill(self) -> None:
        """Drop the connection without DISCONNECT (tests: the will fires as for a crash)."""
        sock = self._client.socket()
        if sock is not None:
            sock.close()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self._subscriptions.append((topic, qos))
        if self.connected.is_set():
            self._client.subscribe(topic, qos=qos)

    # --- publishing ---
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False,
                response_to: Any = None, on_ack: Callable[[bool], None] | None = None) -> None:
        """Queue a message (paho sends it now, or after the reconnect); call on the event loop
        thread. on_ack(ok) runs on the
        loop when the broker acknowledged a QoS 1 message (ok False: refused by the broker)."""
        props = None
        if response_to is not None and getattr(response_to, "CorrelationData", None) is not None:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = response_to.CorrelationData
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.warning("publish to %s failed at once: %s", topic, paho.error_string(info.rc))
            if on_ack is not None:
                on_ack(False)
            return
        if on_ack is not None and qos > 0:
            # registered before the loop runs again; acks are handled on the loop (_acked)
            self._ack_callbacks[info.mid] = on_ack

    # --- paho callbacks (network thread) ---
    def _call(self, fn: Callable, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    @staticmethod
    def _on_socket_open(client, userdata, sock) -> None:
        """No Nagle delay: small dispatch and reply packets go out at once."""
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker %s:%d refused the connection: %s", self.settings.host,
                        self.settings.port, reason_code)
            return
        log.info("connected to %s:%d (session present: %s)", self.settings.host, self.settings.port,
                 flags.session_present)
        for topic, qos in self._subscriptions:
            client.subscribe(topic, qos=qos)
        self._call(self._connected)

    def _connected(self) -> None:
        self.connected.set()
        if self._on_connect_cb is not None:
            asyncio.ensure_future(self._on_connect_cb())

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        log.warning("disconnected from the broker (%s); paho reconnects with backoff", reason_code)
        self._call(self.connected.clear)

    def _on_message(self, client, userdata, msg) -> None:
        payload = bytes(msg.payload)
        priority = False
        if self._triage is not None:
            try:
                priority = bool(self._triage(msg.topic, payload))
            except Exception as exc:      # triage must never stop paho's thread
                log.debug("triage failed: %s", exc)
        self._call(self._enqueue, (msg.topic, payload, msg.properties), priority)

    def _enqueue(self, item: Message, priority: bool = False) -> None:
        if self.messages.put_nowait(item, priority):
            return
        self.dropped += 1
        if priority or self.messages.dropped[1] in (1, 10, 100, 1000) or self.messages.dropped[1] % 10_000 == 0:
            log.warning("incoming queue full: dropped %s message on %s (%d unverified dropped so far)",
                        "a signed" if priority else "an unverified", item[0], self.messages.dropped[1])

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._call(self._acked, mid, not reason_code.is_failure)

    def _acked(self, mid: int, ok: bool) -> None:
        cb = self._ack_callbacks.pop(mid, None)
        if cb is not None:
            cb(ok)
