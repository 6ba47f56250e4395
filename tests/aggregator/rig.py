"""The aggregator path end to end on loopback, built the way `hems run` builds it.

The simulated home is `hems.demo.make_home` (real house load and PV data; SunSpec meter, PV
inverter and bidirectional charger served over Modbus TCP on 127.0.0.1). The agent is
`hems.app.build_agent` on a config made from config.toml with the home's ports, a fixed tariff
(the benchmarks measure the link, not the economics) and an [aggregator] section; the
AggregatorLink is started from that section as Runtime starts it, on a local mosquitto with
mutual TLS, and an AggregatorClient plays the aggregator.

Used by bench/dispatch_latency.py, bench/regulation.py and tests/aggregator/test_rig.py.
"""
from __future__ import annotations

import asyncio
import copy
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hems.aggregator import localbroker
from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.auth import HmacKey
from hems.aggregator.link import AggregatorLink
from hems.aggregator.mqtt import BrokerSettings
from hems.app import build_agent
from hems.config import Config, parse_config
from hems.demo import make_home
from hems.domain.clock import ScaledClock
from tests.conftest import free_port
from tests.simhome import ROOT, config_dict

SITE_ID = "sim-home"
# Tuesday 22:00 in Paris: the simulated car is home until the next morning's trip
START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)


@dataclass
class RigSettings:
    soc_pct: float = 60.0                  # the car's state of charge at the start
    poll_interval_s: float = 1.0           # every device
    import_price_per_kwh: float = 0.25
    export_price_per_kwh: float = 0.08
    reserve_pct: float = 20.0
    telemetry_interval_s: float = 60.0
    seed: int = 1                          # the simulated driver's trips


def rig_config(data_dir: Path, ports: dict[str, int] | None, s: RigSettings,
               aggregator: dict[str, Any] | None = None) -> Config:
    """config.toml with the home's ports, a fixed tariff, the rig's settings and a link."""
    data = copy.deepcopy(config_dict())
    data["storage"]["data_dir"] = str(data_dir)
    data["tariff"] = {"kind": "fixed", "currency": "EUR", "import_price_per_kwh": s.import_price_per_kwh,
                      "export_price_per_kwh": s.export_price_per_kwh}
    data["ev"]["reserve_pct"] = s.reserve_pct
    for role, device in data["devices"].items():
        device["poll_interval_s"] = s.poll_interval_s
        if ports is not None:
            device["port"] = ports[role]
    data["sim"]["seed"] = s.seed
    if aggregator is not None:
        data["aggregator"] = aggregator
    return parse_config(data, source="aggregator rig", base_dir=ROOT)


@dataclass
class AggregatorRig:
    """`await rig.start()`: the home, the agent ticking on it (first plan made), the link, and
    `rig.aggregator` online. The clock runs `speedup` times real time from `start_at`."""
    workdir: Path
    settings: RigSettings = field(default_factory=RigSettings)
    speedup: float = 1.0
    start_at: datetime = START

    def __post_init__(self) -> None:
        self.clock = ScaledClock(self.start_at, speedup=self.speedup)

    async def start(self) -> None:
        s = self.settings
        self.workdir.mkdir(parents=True, exist_ok=True)
        base = rig_config(self.workdir / "data", None, s)
        self.home = make_home(base, self.clock, self.start_at, base.sim)
        self.home.ports = {"meter": 0, "pv": 0, "charger": 0}          # free ports
        self.home.plant.plug(s.soc_pct)
        await self.home.start()
        await self.home.run(step_s=1.0)
        self.broker = None
        await self._start_broker()
        self.config = rig_config(self.workdir / "data", dict(self.home.ports), s, self._link_section())
        self.agent, self.store, self.forecaster = build_agent(self.config, self.clock)
        self.config = self.agent.config
        await self.agent.start()
        await self.agent.tick(wait_for_plan=True)
        self.agent_task = asyncio.get_running_loop().create_task(self.agent.run())
        self.link = AggregatorLink(self.config.aggregator, self.agent, self.store, self.clock)
        await self.link.start()
        await self._start_aggregator()

    async def _start_broker(self) -> None:
        """A local mosquitto with certificates made on the spot, and the site's HMAC key."""
        self.pki = await asyncio.to_thread(localbroker.make_pki, self.workdir / "pki")
        self.broker = localbroker.Broker(self.workdir / "broker", free_port(), self.pki)
        await asyncio.to_thread(self.broker.start)
        self.key_file = self.workdir / "site.key"
        self.key_file.write_text(secrets.token_hex(32) + "\n")

    def _link_section(self) -> dict[str, Any]:
        cert, key = self.pki.pair("site")
        return {"enabled": True, "host": "127.0.0.1", "port": self.broker.port, "tls": True,
                "ca_file": str(self.pki.ca), "cert_file": str(cert), "key_file": str(key),
                "site_id": SITE_ID, "topic_prefix": "hems/v1", "auth": "hmac",
                "auth_key_file": str(self.key_file), "telemetry_interval_s": self.settings.telemetry_interval_s}

    async def _start_aggregator(self) -> None:
        key = HmacKey.from_file(self.key_file)
        cert, private = self.pki.pair("aggregator")
        self.aggregator = AggregatorClient(
            BrokerSettings(host="127.0.0.1", port=self.broker.port, client_id="sim-aggregator", tls=True,
                           ca_file=str(self.pki.ca), cert_file=str(cert), key_file=str(private)),
            SITE_ID, key, reply_verifier=key, clock=self.clock)
        await self.aggregator.start()
        for _ in range(200):     # the retained status comes after the home subscribed
            if self.aggregator.status and self.aggregator.status.get("state") == "online":
                break
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for part in ("aggregator", "link"):
            if hasattr(self, part):
                with suppress(Exception):
                    await getattr(self, part).stop()
        if hasattr(self, "agent_task"):
            self.agent_task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.agent_task
        if hasattr(self, "agent"):
            with suppress(Exception):
                await self.agent.stop()
            self.store.close()
        if hasattr(self, "home"):
            await self.home.stop()
        if getattr(self, "broker", None) is not None:
            await asyncio.to_thread(self.broker.stop)

    async def __aenter__(self) -> "AggregatorRig":
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what the benchmarks and tests read -------------------------------------------
    @property
    def charger(self) -> Any:
        """The simulated charger (its `writes` are time-stamped with the rig's clock)."""
        return self.home.charger

    @property
    def plant(self) -> Any:
        """The charge point and car behind the charger (`actual_w`, hems sign)."""
        return self.home.plant

    def wset_address(self) -> int:
        return self.home.charger.control.address("WSet")
