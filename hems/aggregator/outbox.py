"""Settlement delivery: publish with QoS 1, mark acknowledged on the broker's PUBACK, re-send
what is not acknowledged after every reconnect and every `retry_s`. At least once: the
aggregator de-duplicates by event_id."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, ledger: Any, mqtt: Any, clock: Any, retry_s: float = 30.0) -> None:
        self.ledger, self.mqtt, self.clock, self.retry_s = ledger, mqtt, clock, retry_s
        self.inflight: set[str] = set()
        self._pending: set[asyncio.Future] = set()
        self._tried_at = 0.0

    def send(self, event_id: str, topic: str, payload: bytes) -> None:
        """Publish one stored settlement unless it is already on its way."""
        if event_id in self.inflight:
            return
        self.inflight.add(event_id)

        def acked(ok: bool) -> None:
            self.inflight.discard(event_id)
            if ok:
                task = asyncio.ensure_future(asyncio.to_thread(self.ledger.mark_acked, event_id,
                                                               self.clock.now()))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            else:
                log.warning("broker refused settlement %s; will retry", event_id)

        self.mqtt.publish(topic, payload, qos=1, on_ack=acked)

    def on_connect(self) -> None:
        """After a (re)connect: paho resends what it had in flight; the rest goes now."""
        self.inflight.clear()
        self.resend()

    def resend(self) -> None:
        self._tried_at = time.monotonic()
        for event_id, topic, payload in self.ledger.unacked():
            self.send(event_id, topic, payload)

    def maybe_retry(self) -> None:
        if self.mqtt.connected.is_set() and time.monotonic() - self._tried_at > self.retry_s:
            self.resend()

    async def drain(self) -> None:
        """Wait for the acknowledgements being written."""
        await asyncio.gather(*self._pending, return_exceptions=True)
