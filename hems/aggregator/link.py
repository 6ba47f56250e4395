"""AggregatorLink: the home end of the MQTT link (see README.md and asyncapi.yaml).

Created by hems.app when the config enables it: `AggregatorLink(config, agent, store, clock)`
with `await start()` / `await stop()`. It verifies, translates and settles; the decisions are
control's, asked through AgentApi (offer, signal, cancel, set_default_control, ...).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from hems.aggregator import homeassistant
from hems.aggregator.auth import load_site_keys
from hems.aggregator.ledger import EventRecord, Ledger
from hems.aggregator.messages import Codec, Dispatch, Refusal, format_time
from hems.aggregator.mqtt import BrokerSettings, MqttClient
from hems.aggregator.outbox import Outbox
from hems.aggregator.settlement import EventMeter, settlement_message
from hems.aggregator.topics import Topics
from hems.aggregator.views import baseline_slice, plan_message, telemetry_message
from hems.control.api import AgentApi, Refused
from hems.control.arbitration import Request
from hems.domain import Commitment

log = logging.getLogger(__name__)

VERSION = "1"
METER_SAVE_INTERVAL_S = 30.0
OUTBOX_RETRY_S = 30.0
AGGREGATOR = "aggregator"
REFUSALS_LOGGED = 20            # per minute; more are answered but not logged or stored


def _json(doc: dict) -> bytes:
    import json
    return json.dumps(doc, separators=(",", ":")).encode()


class AggregatorLink:
    def __init__(self, cfg: Any, agent: AgentApi, store: Any, clock: Any) -> None:
        """cfg: hems.config.AggregatorConfig (the enrolment in force)."""
        self.cfg = cfg
        self.agent = agent
        self.clock = clock
        self.site_id: str = cfg.site_id
        self.topics = Topics(cfg.topic_prefix, cfg.site_id)
        verifier, signer = load_site_keys(cfg.auth, cfg.auth_key_file)
        self.codec = Codec(cfg.site_id, verifier, signer)
        self.ledger = Ledger(store)
        self._meters: dict[str, EventMeter] = {}
        self._refusal_window = [0.0, 0]
        self._last_seq = 0
        self._out_seq = 0
        self._started_at: datetime | None = None
        self._tasks: list[asyncio.Task] = []
        self._unsubscribe = None
        self._meter_saved_at = 0.0
        self.mqtt = MqttClient(self._broker_settings(cfg), will=(
            self.topics.status, _json({"v": 1, "site_id": self.site_id, "state": "offline"}), 1, True),
            on_connect=self._on_connect)
        self.outbox = Outbox(self.ledger, self.mqtt, clock, retry_s=OUTBOX_RETRY_S)

    @staticmethod
    def _broker_settings(cfg: Any) -> BrokerSettings:
        password = None
        if cfg.password_file:
            with open(cfg.password_file, encoding="utf-8") as f:
                password = f.read().strip()
        s = lambda p: str(p) if p else None  # noqa: E731
        return BrokerSettings(host=cfg.host, port=int(cfg.port), client_id=f"hems-{cfg.site_id}",
                              tls=bool(cfg.tls), ca_file=s(cfg.ca_file), cert_file=s(cfg.cert_file),
                              key_file=s(cfg.key_file), username=cfg.username, password=password)

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        now = self.clock.now()
        self._started_at = now
        self._last_seq = self.ledger.last_seq(AGGREGATOR)
        self._out_seq = self.ledger.last_seq("site")
        await self._restore(now)
        self.mqtt.subscribe(self.topics.dispatch, qos=1)
        if self.cfg.homeassistant_discovery:
            self.mqtt.subscribe(self.topics.ha_command + "/#", qos=1)
        self._unsubscribe = self.agent.subscribe(self._on_agent)
        await self.mqtt.start()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._consume(), name="aggregator-consume"),
                       loop.create_task(self._telemetry_loop(), name="aggregator-telemetry"),
                       loop.create_task(self._housekeeping_loop(), name="aggregator-housekeeping")]
        log.info("aggregator link for site %s on %s:%s (auth %s)", self.site_id, self.cfg.host,
                 self.cfg.port, self.cfg.auth)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._unsubscribe:
            self._unsubscribe()
        await self.outbox.drain()
        self._save_meters(self.clock.now())
        if self.mqtt.connected.is_set():
            done = asyncio.get_running_loop().create_future()
            self.mqtt.publish(self.topics.status, _json(self._status("offline", "stopped")), qos=1,
                              retain=True, on_ack=lambda ok: done.done() or done.set_result(ok))
            try:
                await asyncio.wait_for(done, 2.0)
            except asyncio.TimeoutError:
                log.warning("offline status not acknowledged before stop")
        await self.mqtt.stop()

    async def _restore(self, now: datetime) -> None:
        """Events accepted before a restart run to their end; ended ones are settled now."""
        for rec in self.ledger.events("active"):
            meter = EventMeter.restore(rec, self.ledger.meter(rec.event_id))
            self._meters[rec.event_id] = meter
            if meter.end() <= now:
                continue   # settled by the first housekeeping pass
            await self.agent.resume(Commitment(rec.event_id, max(rec.start, now), rec.end,
                                               rec.min_ev_w, rec.max_ev_w, rec.priority),
                                    regulation=rec.kind == "regulation")
            log.info("resumed %s %s until %s", rec.kind, rec.event_id, rec.end)

    def _status(self, state: str, reason: str | None = None) -> dict[str, Any]:
        doc = {"v": 1, "site_id": self.site_id, "state": state, "at": format_time(self.clock.now()),
               "version": VERSION, "auth": self.codec.verifier.alg,
               "schemas": ["dispatch.v1", "reply.v1", "telemetry.v1", "plan.v1", "settlement.v1"]}
        if reason:
            doc["reason"] = reason
        return doc

    async def _on_connect(self) -> None:
        self.mqtt.publish(self.topics.status, _json(self._status("online")), qos=1, retain=True)
        if self.cfg.homeassistant_discovery:
            for topic, payload in homeassistant.discovery_messages(self.topics, VERSION):
                self.mqtt.publish(topic, payload, qos=1, retain=True)
            self._publish_ha_state()
        self._publish_plan()
        self.outbox.on_connect()

    # --- incoming ------------------------------------------------------------------------
    async def _consume(self) -> None:
        while True:
            topic, payload, props = await self.mqtt.messages.get()
            try:
                if topic == self.topics.dispatch:
                    await self.handle(payload, props)
                elif topic.startswith(self.topics.ha_command + "/"):
                    await self._ha_command(topic, payload)
            except Exception:
                log.exception("unexpected error handling a message on %s; the link carries on", topic)

    async def handle(self, payload: bytes, props: Any = None) -> dict[str, Any]:
        """Check, apply and answer one dispatch payload. Returns the reply message."""
        now = self.clock.now()
        try:
            d = self.codec.open(payload, now)
            self._check_replay(d, now)
        except Refusal as r:
            if self._count_refusal():     # a flood of junk is answered but not all of it written
                log.warning("dispatch refused (%s): %s", r.code, r.reason)
                await self._persist(self.ledger.record_dispatch, now, None, r.msg_id, r.kind, "refused",
                                    r.code, r.reason)
            return self._answer(props, r.msg_id, r.kind, "refused", r.code, r.reason, None, now)
        try:
            status, code, reason, delivered = await self._apply(d, now)
        except Exception as exc:
            log.exception("dispatch %s failed", d.id)
            status, code, reason, delivered = "rejected", "internal", f"internal error: {exc}", None
        level = logging.DEBUG if d.kind == "regulation_signal" and status == "done" else logging.INFO
        log.log(level, "dispatch %s (%s): %s %s: %s", d.id, d.kind, status, code, reason)
        if d.kind != "regulation_signal" or status != "done":
            # durable before the answer, off the event loop (an SD card fsync takes ~10 ms);
            # applied signals: their seq is saved by housekeeping (they expire within 30 s)
            await self._persist(self.ledger.record_dispatch, now, d.seq, d.id, d.kind, status, code, reason)
        return self._answer(props, d.id, d.kind, status, code, reason, delivered, now)

    async def _persist(self, fn: Any, *args: Any) -> None:
        """A ledger write in a worker thread; a failing disk is logged, the link carries on."""
        try:
            await asyncio.to_thread(fn, *args)
        except Exception as exc:
            log.error("could not store %s: %s", getattr(fn, "__name__", fn), exc)

    def _count_refusal(self) -> bool:
        """True for the first REFUSALS_LOGGED refusals of each minute (logged and stored)."""
        t = time.monotonic()
        if t - self._refusal_window[0] > 60.0:
            if self._refusal_window[1] > REFUSALS_LOGGED:
                log.warning("%d more refusals in the last minute were answered but not logged",
                            self._refusal_window[1] - REFUSALS_LOGGED)
            self._refusal_window = [t, 0]
        self._refusal_window[1] += 1
        return self._refusal_window[1] <= REFUSALS_LOGGED

    def _check_replay(self, d: Dispatch, now: datetime) -> None:
        if d.seq <= self._last_seq:
            raise Refusal("replayed", f"seq {d.seq} is not above the last accepted seq {self._last_seq}",
                          d.id, d.kind)
        if d.kind == "regulation_signal" and self._started_at and d.issued_at < self._started_at:
            raise Refusal("replayed", "regulation signal issued before the link started", d.id, d.kind)
        self._last_seq = d.seq   # made durable after the dispatch took effect (see handle)

    def _answer(self, props: Any, msg_id: str | None, kind: str | None, status: str, code: str,
                reason: str, delivered: dict | None, now: datetime) -> dict[str, Any]:
        self._out_seq = max(self._out_seq + 1, time.time_ns() // 1000)
        msg = {"v": 1, "kind": "reply", "site_id": self.site_id, "seq": self._out_seq,
               "issued_at": format_time(now), "in_reply_to": msg_id, "dispatch_kind": kind,
               "status": status, "code": code, "reason": reason}
        if delivered:
            msg["delivered"] = delivered
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        topic = response_topic if self.topics.allowed_response_topic(response_topic) else self.topics.reply
        self.mqtt.publish(topic, self.codec.seal(msg), qos=1, response_to=props)
        return msg

    def routes(self) -> dict[str, Callable[[Dispatch, datetime], Awaitable[tuple[str, str, str, dict | None]]]]:
        """One route per dispatch kind of dispatch.v1.json; a kind without one is refused."""
        return {"event": self._commit, "regulation": self._commit, "regulation_signal": self._signal,
                "cancel": self._cancel, "prices": self._prices, "default": self._set_default}

    async def _apply(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        route = self.routes().get(d.kind)
        if route is None:
            return "refused", "unsupported_kind", f"this home has no route for dispatch kind {d.kind!r}", None
        try:
            return await route(d, now)
        except Refused as r:
            return "rejected", r.code, r.reason, None

    def _request(self, d: Dispatch) -> Request:
        b = d.body
        start = d.time("start")
        spread = int(b.get("randomize_start_s", 0))
        if spread:   # the same home always draws the same offset for the same event
            digest = hashlib.sha256(f"{self.site_id}/{d.id}".encode()).digest()
            start += timedelta(seconds=int.from_bytes(digest[:4], "big") % (spread + 1))
        end = start + timedelta(seconds=int(b["duration_s"]))
        return Request(id=d.id, kind=d.kind, start=start, end=end, priority=int(b.get("priority", 0)),
                       target_w=b.get("target_w"), import_limit_w=b.get("import_limit_w"),
                       export_limit_w=b.get("export_limit_w"), band_w=b.get("band_w"),
                       center_w=b.get("center_w"),
                       supersedes=tuple(x for x in b.get("supersedes", []) if x in self._meters),
                       signal_interval_s=float(b.get("signal_interval_s", 2.0)))

    async def _commit(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        req = self._request(d)
        plan = self.agent.plan                        # the baseline: the plan without this event
        decision = await self.agent.offer(req)
        for old in decision.superseded:               # ended by control: settle them
            await self._end_event(old, now, cancelled=True)
        if decision.status == "rejected":
            return "rejected", decision.code, decision.reason, None
        commitment = decision.commitment(req)
        previous = self._meters.get(req.id)
        baseline = previous.record.baseline if previous else baseline_slice(plan, commitment.start,
                                                                             commitment.end)
        rec = EventRecord(req.id, req.kind, commitment.start, commitment.end, commitment.min_ev_w,
                          commitment.max_ev_w, commitment.priority, baseline, "active")
        self._meters[req.id] = replace(previous, record=rec) if previous else EventMeter(rec)
        await self._persist(self.ledger.add_event, rec)
        delivered = {"start": format_time(commitment.start), "end": format_time(commitment.end),
                     "min_ev_w": round(commitment.min_ev_w, 1), "max_ev_w": round(commitment.max_ev_w, 1)}
        if decision.band_w is not None:
            delivered.update(center_w=round(decision.center_w, 1), band_w=round(decision.band_w, 1))
        return decision.status, decision.code, decision.reason, delivered

    async def _signal(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        ev_w = await self.agent.signal(d.body["regulation_id"], float(d.body["signal"]))
        return "done", "ok", "signal applied", {"ev_power_w": round(float(ev_w), 1)}

    async def _cancel(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        target = d.body["target_id"]
        if target not in self._meters:
            return "rejected", "unknown_id", f"no accepted event {target!r} to cancel", None
        await self._end_event(target, now, cancelled=True)
        return "done", "ok", f"{target} cancelled; settlement follows", None

    async def _prices(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        await self.agent.set_price_override(d.time("start"), int(d.body["interval_s"]),
                                            list(d.body["price_per_kwh"]))
        return "done", "ok", f"{len(d.body['price_per_kwh'])} prices in force; replanning", None

    async def _set_default(self, d: Dispatch, now: datetime) -> tuple[str, str, str, dict | None]:
        words = await self.agent.set_default_control(d.body.get("import_limit_w"), d.body.get("export_limit_w"))
        return "done", "ok", words, None

    # --- events ending and settlement ---------------------------------------------------
    async def _end_event(self, event_id: str, now: datetime, cancelled: bool) -> None:
        meter = self._meters.get(event_id)
        if meter is None:
            return
        if cancelled and now < meter.record.end:
            meter.record = replace(meter.record, cancelled_at=max(now, meter.record.start))
            await self.agent.cancel(event_id)           # already ended when control superseded it
        await self._settle(meter, now)

    async def _settle(self, meter: EventMeter, now: datetime) -> None:
        rec = meter.record
        if self._meters.pop(rec.event_id, None) is None:
            return   # already settled
        self._out_seq = max(self._out_seq + 1, time.time_ns() // 1000)
        msg = settlement_message(meter, self.site_id, self._out_seq, now)
        payload = self.codec.seal(msg)
        await asyncio.to_thread(self.ledger.settle, rec.event_id, meter.snapshot(), self.topics.settlement,
                                payload, now, rec.cancelled_at)
        log.info("settlement of %s: delivered %.3f kWh against the baseline", rec.event_id,
                 msg["total"]["delivered_kwh"])
        self._send(rec.event_id, self.topics.settlement, payload)

    def _send(self, event_id: str, topic: str, payload: bytes) -> None:
        self.outbox.send(event_id, topic, payload)

    # --- agent updates, telemetry, housekeeping -------------------------------------------
    def _on_agent(self, topic: str, payload: Any) -> None:
        if topic == "state":
            ev_w = payload.charger.ev_power_w if payload.charger and "charger" not in payload.stale else None
            grid_w = payload.meter.grid_power_w if payload.meter and "meter" not in payload.stale else None
            for meter in self._meters.values():
                meter.add(payload.at, ev_w, grid_w)
        elif topic == "plan":
            self._publish_plan()
        elif topic == "preferences" and self.cfg.homeassistant_discovery:
            self._publish_ha_state()

    def _publish_plan(self) -> None:
        plan = self.agent.plan
        if plan is not None:
            msg = plan_message(self.site_id, plan, self.agent.envelope, self.clock.now())
            self.mqtt.publish(self.topics.plan, _json(msg), qos=1, retain=True)

    def _publish_ha_state(self) -> None:
        prefs = self.agent.preferences
        self.mqtt.publish(f"{self.topics.base}/ha/state",
                          _json({"mode": prefs.mode.value, "reserve_pct": prefs.reserve_pct}),
                          qos=1, retain=True)

    async def _ha_command(self, topic: str, payload: bytes) -> None:
        try:
            name, value = homeassistant.parse_command(self.topics, topic, payload)
        except ValueError as exc:
            log.warning("Home Assistant command refused: %s", exc)
            return
        prefs = self.agent.preferences
        prefs = replace(prefs, mode=value) if name == "mode" else replace(prefs, reserve_pct=value)
        await self.agent.set_preferences(prefs, who="homeassistant")
        self._publish_ha_state()

    def status(self) -> dict[str, Any]:
        """For the web UI: connection, broker, active events and settlements waiting for a PUBACK."""
        now = self.clock.now()
        return {"connected": self.mqtt.connected.is_set(), "broker": f"{self.cfg.host}:{self.cfg.port}",
                "site_id": self.site_id, "auth": self.codec.verifier.alg,
                "active": [i for i, m in self._meters.items() if m.record.start <= now < m.end()],
                "scheduled": [i for i, m in self._meters.items() if m.record.start > now],
                "settlements_in_flight": len(self.outbox.inflight)}

    def telemetry(self) -> dict[str, Any]:
        now = self.clock.now()
        active = [i for i, m in self._meters.items() if m.record.start <= now < m.end()]
        return telemetry_message(self.site_id, self.agent.state, self.agent.last_setpoint, active, now)

    async def _telemetry_loop(self) -> None:
        while True:
            try:
                if self.mqtt.connected.is_set():
                    self.mqtt.publish(self.topics.telemetry, _json(self.telemetry()), qos=0)
            except Exception:
                log.exception("telemetry failed; next try in %s s", self.cfg.telemetry_interval_s)
            await self.clock.sleep(float(self.cfg.telemetry_interval_s))

    async def _housekeeping_loop(self) -> None:
        while True:
            try:
                await self.housekeeping()
            except Exception:
                log.exception("aggregator housekeeping failed; retrying")
            await asyncio.sleep(0.5)

    async def housekeeping(self) -> None:
        now = self.clock.now()
        for meter in list(self._meters.values()):
            if meter.end() <= now:
                await self._settle(meter, now)
        if time.monotonic() - self._meter_saved_at > METER_SAVE_INTERVAL_S:
            await asyncio.to_thread(self._save_meters, now)
        self.outbox.maybe_retry()

    def _save_meters(self, now: datetime) -> None:
        """Metering so far and the sequence numbers (runs in a worker thread, or at stop)."""
        self._meter_saved_at = time.monotonic()
        for event_id, meter in list(self._meters.items()):
            if meter.per_k:
                self.ledger.save_meter(event_id, meter.snapshot())
        self.ledger.set_seq(AGGREGATOR, self._last_seq, now)
        self.ledger.set_seq("site", self._out_seq, now)
