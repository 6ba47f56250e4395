"""The aggregator's end, for integrators: send dispatch, wait for the reply, watch the home.

Used by `hems aggregator ...`, the demo and the benchmarks; it is also a worked example of the
protocol in asyncapi.yaml (sign, sequence, response topic + correlation data, verify replies).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from hems.aggregator.auth import AuthError, Signer, Verifier
from hems.aggregator.messages import format_time, seal_dispatch
from hems.aggregator.mqtt import BrokerSettings, MqttClient
from hems.aggregator.topics import Topics
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger(__name__)

LIFETIME_S = {"regulation_signal": 20.0}
DEFAULT_LIFETIME_S = 600.0


class AggregatorClient:
    def __init__(self, broker: BrokerSettings, site_id: str, signer: Signer, *,
                 topic_prefix: str = "hems/v1", reply_verifier: Verifier | None = None,
                 clock: Clock | None = None) -> None:
        self.topics = Topics(topic_prefix, site_id)
        self.site_id = site_id
        self.signer = signer
        self.reply_verifier = reply_verifier
        self.clock = clock or SystemClock()
        self.mqtt = MqttClient(broker)
        self.reply_topic = f"{self.topics.base}/reply/{broker.client_id}"
        self._seq = 0
        self._ids = itertools.count(1)
        self._waiting: dict[bytes, asyncio.Future] = {}
        self.status: dict[str, Any] | None = None
        self.plan: dict[str, Any] | None = None
        self.telemetry: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.settlements: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: list[dict[str, Any]] = []
        self._task: asyncio.Task | None = None

    async def start(self, timeout_s: float = 10.0) -> None:
        for topic in (self.topics.status, self.topics.telemetry, self.topics.plan, self.topics.settlement,
                      self.topics.reply, self.reply_topic):
            self.mqtt.subscribe(topic, qos=1)
        await self.mqtt.start()
        self._task = asyncio.get_running_loop().create_task(self._consume())
        await asyncio.wait_for(self.mqtt.connected.wait(), timeout_s)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.mqtt.stop()

    def next_seq(self) -> int:
        """Strictly increasing and time-based (us), so it keeps increasing across restarts."""
        self._seq = max(self._seq + 1, time.time_ns() // 1000)
        return self._seq

    def message(self, kind: str, lifetime_s: float | None = None, msg_id: str | None = None,
                **fields: Any) -> dict[str, Any]:
        now = self.clock.now()
        life = lifetime_s if lifetime_s is not None else LIFETIME_S.get(kind, DEFAULT_LIFETIME_S)
        msg = {"v": 1, "kind": kind, "id": msg_id or f"{kind[:3]}-{int(time.time())}-{next(self._ids)}",
               "site_id": self.site_id, "seq": self.next_seq(), "issued_at": format_time(now),
               "expires_at": format_time(now + timedelta(seconds=life))}
        msg.update({k: (format_time(v) if isinstance(v, datetime) else v) for k, v in fields.items()})
        return msg

    def publish_raw(self, payload: bytes, correlation: bytes | None = None) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.reply_topic
        if correlation is not None:
            props.CorrelationData = correlation
        self.mqtt._client.publish(self.topics.dispatch, payload, qos=1, properties=props)

    async def send_raw(self, payload: bytes, correlation: bytes, timeout_s: float = 20.0) -> dict[str, Any]:
        """Publish any payload (signed or not) and wait for the reply with this correlation."""
        fut = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = fut
        self.publish_raw(payload, correlation)
        try:
            return await asyncio.wait_for(fut, timeout_s)
        finally:
            self._waiting.pop(correlation, None)

    async def send(self, kind: str, timeout_s: float = 20.0, **fields: Any) -> dict[str, Any]:
        """Sign and send one dispatch; return the home's reply message."""
        msg = self.message(kind, **fields)
        return await self.send_raw(seal_dispatch(msg, self.signer), msg["id"].encode(), timeout_s)

    async def _consume(self) -> None:
        while True:
            topic, payload, props = await self.mqtt.messages.get()
            try:
                self._on_message(topic, payload, props)
            except Exception as exc:   # a bad message from the home is shown, never fatal
                log.warning("unreadable message on %s: %s", topic, exc)

    def _open(self, payload: bytes) -> dict[str, Any]:
        envelope = json.loads(payload)
        if self.reply_verifier is not None and envelope.get("alg") != "none":
            try:
                self.reply_verifier.verify(envelope["msg"].encode(), envelope["sig"])
            except AuthError as exc:
                raise ValueError(f"signature of the home's message does not verify: {exc}") from None
        return json.loads(envelope["msg"])

    def _on_message(self, topic: str, payload: bytes, props: Any) -> None:
        if topic == self.topics.status:
            self.status = json.loads(payload)
        elif topic == self.topics.plan:
            self.plan = json.loads(payload)
        elif topic == self.topics.telemetry:
            if self.telemetry.full():
                self.telemetry.get_nowait()
            self.telemetry.put_nowait(json.loads(payload))
        elif topic == self.topics.settlement:
            self.settlements.put_nowait(self._open(payload))
        elif topic in (self.reply_topic, self.topics.reply):
            reply = self._open(payload)
            self.replies.append(reply)
            corr = getattr(props, "CorrelationData", None) if props is not None else None
            fut = self._waiting.get(bytes(corr)) if corr is not None else None
            if fut is not None and not fut.done():
                fut.set_result(reply)
