"""A small simulated home for the aggregator benchmarks and end-to-end tests.

The real agent (hems.control.agent.Agent) polls a simulated SunSpec meter and bidirectional
charger over Modbus TCP on 127.0.0.1 with the real drivers, plans with the real planner
(flat house load and prices: the benchmarks measure the link, not the economics), and the
AggregatorLink connects it to a local mosquitto, where an AggregatorClient plays the aggregator.
"""
from __future__ import annotations

import asyncio
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.aggregator import localbroker
from hems.aggregator.aggregator_client import AggregatorClient
from hems.aggregator.auth import HmacKey
from hems.aggregator.link import AggregatorLink
from hems.aggregator.mqtt import BrokerSettings

SITE_ID = "sim-home"


@dataclass
class SimHomeSettings:
    house_w: float = 500.0
    soc_pct: float = 60.0
    phases: int = 3
    max_current_a: float = 16.0
    poll_interval_s: float = 1.0
    horizon_h: float = 24.0
    interval_s: int = 900
    import_price_per_kwh: float = 0.25
    export_price_per_kwh: float = 0.08
    departure: time = time(7, 0)
    target_soc_pct: float = 80.0
    reserve_pct: float = 20.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_replan(s: SimHomeSettings, car: Any, limits: Any):
    """The agent's replan function: the real planner on flat forecasts."""
    from hems.domain import Plan
    from hems.planner import Problem, flexibility, solve

    def replan(req) -> tuple[Plan, Any] | None:
        epoch = req.now.timestamp()
        start = datetime.fromtimestamp(epoch - epoch % s.interval_s, tz=req.now.tzinfo)
        n = int(s.horizon_h * 3600 // s.interval_s)
        times = [start + timedelta(seconds=k * s.interval_s) for k in range(n)]
        charger = req.state.charger
        soc = charger.soc_pct if charger is not None and charger.soc_pct is not None else None
        plugged = bool(charger is not None and charger.plugged and soc is not None)
        targets = []
        if req.trip is not None:
            k = int(-(-(req.trip.departure - start).total_seconds() // s.interval_s))
            if 0 < k <= n:
                targets.append({"index": k, "soc_pct": req.trip.target_soc_pct})
        ev_min, ev_max = [None] * n, [None] * n
        for c in req.commitments:
            for i, t in enumerate(times):
                if c.start < t + timedelta(seconds=s.interval_s) and t < c.end and c.priority >= 0:
                    ev_min[i], ev_max[i] = c.min_ev_w, c.max_ev_w
        problem = Problem.from_json({
            "interval_s": s.interval_s, "start": start.isoformat(),
            "import_price_per_kwh": [s.import_price_per_kwh] * n,
            "export_price_per_kwh": [s.export_price_per_kwh] * n,
            "pv_w": [0.0] * n, "load_w": [s.house_w] * n,
            "ev": {"capacity_wh": car.capacity_wh, "soc_pct": soc if soc is not None else 50.0,
                   "min_charge_w": limits.min_charge_w, "max_charge_w": limits.max_charge_w,
                   "min_discharge_w": limits.min_discharge_w, "max_discharge_w": limits.max_discharge_w,
                   "charge_efficiency": car.charge_efficiency, "discharge_efficiency": 0.9,
                   "reserve_pct": req.preferences.reserve_pct, "max_soc_pct": 100.0,
                   "plugged": plugged, "targets": targets},
            "site": {"max_import_w": limits.max_import_w, "max_export_w": limits.max_export_w},
            "aggregator": {"ev_min_w": ev_min, "ev_max_w": ev_max},
        })
        result = solve(problem)
        plan = Plan(start=start, interval_s=s.interval_s, ev_w=np.asarray(result.ev_w, dtype=float),
                    soc_pct=np.asarray(result.soc_pct, dtype=float), grid_w=np.asarray(result.grid_w, dtype=float),
                    cost=float(result.cost), solve_ms=float(result.solve_ms))
        return plan, flexibility(problem, result)

    return replan


@dataclass
class SimHome:
    workdir: Path
    clock: Any
    settings: SimHomeSettings = field(default_factory=SimHomeSettings)
    telemetry_interval_s: float = 60.0

    async def start(self) -> None:
        """Simulated devices, the agent on them (first plan made), then the link."""
        from hems.config import DeviceConfig
        from hems.control.agent import Agent, AgentSettings, DeviceSlot
        from hems.control.decide import CarLimits
        from hems.control.safety import SafetyLimits
        from hems.devices.factory import build_devices
        from hems.devices.poller import DevicePoller
        from hems.devices.sim import SimServer, SunSpecCharger, SunSpecMeter
        from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
        from hems.domain import Preferences
        from hems.store import Store

        s = self.settings
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.plant = ChargePoint(ChargerSpec(phases=s.phases, max_current_a=s.max_current_a),
                                 CarSpec(capacity_wh=60000.0), soc_pct=s.soc_pct)
        self.charger = SunSpecCharger(plant=self.plant, clock=self.clock, revert_s=60)
        self.meter = SunSpecMeter(clock=self.clock)
        self.meter.on_request = lambda now: (self.charger.advance(now),
                                             self.meter.set_power(s.house_w + self.plant.actual_w))
        self.servers = [SimServer(self.meter), SimServer(self.charger)]
        for server in self.servers:
            await server.start()
        configs = [DeviceConfig(name=name, role=name, profile="sunspec", transport="tcp", unit=1,
                                poll_interval_s=s.poll_interval_s, timeout_s=2.0, host="127.0.0.1",
                                port=server.port) for name, server in zip(("meter", "charger"), self.servers)]
        devices = build_devices(configs, clock=self.clock)
        slots = [DeviceSlot(c.name, c.role, DevicePoller(devices[c.name], poll_interval_s=c.poll_interval_s,
                                                         timeout_s=c.timeout_s, clock=self.clock, role=c.role),
                            c.poll_interval_s) for c in configs]
        max_w = s.phases * 230.0 * s.max_current_a
        min_w = s.phases * 230.0 * 6.0
        limits = SafetyLimits(phases=s.phases, voltage_v=230.0, main_fuse_a=25.0, max_import_w=17250.0,
                              max_export_w=17250.0, min_charge_w=min_w, max_charge_w=max_w,
                              min_discharge_w=min_w, max_discharge_w=max_w, reserve_pct=s.reserve_pct)
        car = CarLimits(capacity_wh=60000.0, min_charge_w=min_w, max_charge_w=max_w, charge_efficiency=0.9)
        settings = AgentSettings(limits=limits, car=car, timezone=ZoneInfo("UTC"),
                                 weekly={d: (s.departure, s.target_soc_pct) for d in range(7)},
                                 loop_interval_s=s.poll_interval_s,
                                 default_preferences=Preferences(reserve_pct=s.reserve_pct))
        self.store = Store(self.workdir / "hems.sqlite", clock=self.clock)
        self.agent = Agent(settings, slots, self.clock, store=self.store, replan=make_replan(s, car, limits))
        await self.agent.start()
        await self.agent.tick(wait_for_plan=True)
        self.agent_task = asyncio.get_running_loop().create_task(self.agent.run())
        await self._start_link()

    async def _start_link(self) -> None:
        """A local broker with certificates, the link, and the aggregator's client."""
        from hems.config import AggregatorConfig

        pki = await asyncio.to_thread(localbroker.make_pki, self.workdir / "pki")
        self.broker = localbroker.Broker(self.workdir / "broker", _free_port(), pki)
        await asyncio.to_thread(self.broker.start)
        key_file = self.workdir / "site.key"
        key_file.write_text(secrets.token_hex(32) + "\n")
        cert, key = pki.pair("site")
        self.link_config = AggregatorConfig(
            enabled=True, host="127.0.0.1", port=self.broker.port, tls=True, ca_file=pki.ca, cert_file=cert,
            key_file=key, username=None, password_file=None, site_id=SITE_ID, topic_prefix="hems/v1",
            auth="hmac", auth_key_file=key_file, telemetry_interval_s=self.telemetry_interval_s,
            homeassistant_discovery=False)
        self.link = AggregatorLink(self.link_config, self.agent, self.store, self.clock)
        await self.link.start()
        key_obj = HmacKey.from_file(key_file)
        acert, akey = pki.pair("aggregator")
        self.aggregator = AggregatorClient(
            BrokerSettings(host="127.0.0.1", port=self.broker.port, client_id="sim-aggregator", tls=True,
                           ca_file=str(pki.ca), cert_file=str(acert), key_file=str(akey)),
            SITE_ID, key_obj, reply_verifier=key_obj, clock=self.clock)
        await self.aggregator.start()
        for _ in range(200):     # the retained status comes after the home subscribed
            if self.aggregator.status and self.aggregator.status.get("state") == "online":
                break
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        with suppress(Exception):
            await self.aggregator.stop()
        with suppress(Exception):
            await self.link.stop()
        self.agent_task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await self.agent_task
        with suppress(Exception):
            await self.agent.stop()
        for server in self.servers:
            with suppress(Exception):
                await server.stop()
        await asyncio.to_thread(self.broker.stop)
        self.store.close()

    def wset_address(self) -> int:
        return self.charger.control.address("WSet")
