"""The aggregator path in `make demo`: a local broker, the link, and a scripted aggregator.

    from hems.aggregator.demo import AggregatorDemo
    demo = AggregatorDemo(workdir, clock)
    if demo.available():
        await demo.start(agent, store)     # broker on 127.0.0.1 + AggregatorLink + aggregator script
    ...
    await demo.stop()

The script waits for the home's plan, then sends an event (discharge), a default control and
the same message again (refused as a replay), a regulation band with a 2 s signal, and prints
every reply and the settlements. Times follow the injected clock, so it plays at the simulation's speed.
"""
from __future__ import annotations

import asyncio
import logging
import math
import secrets
from contextlib import suppress
from pathlib import Path
from typing import Any, Callable

from hems.aggregator import localbroker
from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.auth import HmacKey
from hems.aggregator.link import AggregatorLink
from hems.aggregator.messages import seal_dispatch
from hems.aggregator.mqtt import BrokerSettings

log = logging.getLogger(__name__)
SITE_ID = "demo-home"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AggregatorDemo:
    def __init__(self, workdir: str | Path, clock: Any, out: Callable[[str], None] = print,
                 event_s: int = 1800, regulation_s: int = 900) -> None:
        self.workdir = Path(workdir)
        self.event_s, self.regulation_s = event_s, regulation_s
        self.clock = clock
        self.out = out
        self.broker: localbroker.Broker | None = None
        self.link: AggregatorLink | None = None
        self.client: AggregatorClient | None = None
        self._task: asyncio.Task | None = None

    @staticmethod
    def available() -> bool:
        return localbroker.available()

    def link_config(self, key_file: Path) -> Any:
        from hems.config import AggregatorConfig

        cert, key = self.broker.pki.pair("site")
        return AggregatorConfig(enabled=True, host="127.0.0.1", port=self.broker.port, tls=True,
                                ca_file=self.broker.pki.ca, cert_file=cert, key_file=key, username=None,
                                password_file=None, site_id=SITE_ID, topic_prefix="hems/v1", auth="hmac",
                                auth_key_file=key_file, telemetry_interval_s=60.0,
                                homeassistant_discovery=True)

    async def start(self, agent: Any, store: Any) -> None:
        """Start the broker, the home's link and the aggregator script (in the background)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        pki = await asyncio.to_thread(localbroker.make_pki, self.workdir / "pki")
        self.broker = localbroker.Broker(self.workdir / "broker", _free_port(), pki)
        await asyncio.to_thread(self.broker.start)
        key_file = self.workdir / "site.key"
        key_file.write_text(secrets.token_hex(32) + "\n")
        key_file.chmod(0o600)
        self.link = AggregatorLink(self.link_config(key_file), agent, store, self.clock)
        await self.link.start()
        cert, key = pki.pair("aggregator")
        key_obj = HmacKey.from_file(key_file)
        self.client = AggregatorClient(
            BrokerSettings(host="127.0.0.1", port=self.broker.port, client_id="demo-aggregator", tls=True,
                           ca_file=str(pki.ca), cert_file=str(cert), key_file=str(key)),
            SITE_ID, key_obj, reply_verifier=key_obj, clock=self.clock)
        await self.client.start()
        self.out(f"aggregator: broker on 127.0.0.1:{self.broker.port} (mutual TLS), site {SITE_ID}")
        self._task = asyncio.get_running_loop().create_task(self._script_safely())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.client is not None:
            await self.client.stop()
        if self.link is not None:
            await self.link.stop()
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)

    async def _script_safely(self) -> None:
        try:
            await self.script()
        except asyncio.CancelledError:
            raise
        except Exception as exc:   # the demo goes on without the aggregator
            log.exception("aggregator demo script failed")
            self.out(f"aggregator: demo script stopped: {exc}")

    def _show(self, what: str, reply: dict[str, Any]) -> None:
        got = reply.get("delivered") or {}
        band = f" {got.get('min_ev_w')}..{got.get('max_ev_w')} W" if "min_ev_w" in got else ""
        self.out(f"aggregator: {what} -> {reply['status']} ({reply.get('code')}){band}: {reply['reason']}")

    async def script(self) -> None:
        c, clock = self.client, self.clock
        while c.plan is None:                       # the home publishes its envelope first
            await asyncio.sleep(0.5)
        self.out(f"aggregator: plan received, {len(c.plan['ev_w'])} intervals with flexibility envelope")
        event = await c.send("event", start=clock.now(), duration_s=self.event_s, target_w=-5000, priority=1)
        self._show(f"event: discharge 5 kW for {self.event_s // 60} min", event)
        replay_msg = c.message("default", import_limit_w=12000)
        first = await c.send_raw(seal_dispatch(replay_msg, c.signer), b"replay-1")
        again = await c.send_raw(seal_dispatch(replay_msg, c.signer), b"replay-2")
        self._show("default control: import <= 12 kW", first)
        self._show("the same message sent again", again)
        await self._wait_clock(self.event_s)
        reg = await c.send("regulation", start=clock.now(), duration_s=self.regulation_s, band_w=3000)
        self._show(f"regulation band 3 kW for {self.regulation_s // 60} min", reg)
        if reg["status"] in ("accepted", "modified"):
            await self._follow(reg["in_reply_to"], self.regulation_s)
        while True:
            s = await c.settlements.get()
            self.out(f"aggregator: settlement {s['event_id']}: delivered {s['total']['delivered_kwh']:+.3f} kWh "
                     f"against the baseline over {len(s['intervals'])} interval(s)")

    async def _wait_clock(self, seconds: float) -> None:
        end = self.clock.now().timestamp() + seconds
        while self.clock.now().timestamp() < end:
            while not self.client.settlements.empty():
                s = self.client.settlements.get_nowait()
                self.out(f"aggregator: settlement {s['event_id']}: delivered "
                         f"{s['total']['delivered_kwh']:+.3f} kWh against the baseline")
            await asyncio.sleep(0.5)

    async def _follow(self, reg_id: str, seconds: float) -> None:
        """A signal every 2 s of the (simulated) clock."""
        start = self.clock.now().timestamp()
        shown = 0
        while self.clock.now().timestamp() - start < seconds:
            t = self.clock.now().timestamp() - start
            signal = round(math.sin(2 * math.pi * t / 300.0), 3)
            r = await self.client.send("regulation_signal", regulation_id=reg_id, signal=signal)
            if shown % 20 == 0:
                self.out(f"aggregator: signal {signal:+.2f} -> EV {r.get('delivered', {}).get('ev_power_w')} W")
            shown += 1
            await asyncio.gather(self.clock.sleep(2.0), asyncio.sleep(0.01))


async def start_aggregator_demo(runtime: Any) -> AggregatorDemo:
    """For `hems demo`: the aggregator path on a running hems.app.Runtime (its agent, store and
    clock), shown on the web UI's Devices page too. Call `await demo.stop()` before the runtime's."""
    demo = AggregatorDemo(Path(runtime.config.storage.data_dir) / "aggregator-demo", runtime.clock)
    await demo.start(runtime.agent, runtime.store)
    web_app = getattr(runtime, "web_app", None)
    if web_app is not None:
        try:
            from hems.web.views import attach_aggregator

            attach_aggregator(web_app, demo.link)
        except Exception as exc:   # the demo goes on without it
            log.warning("could not show the aggregator link in the web UI: %s", exc)
    return demo
