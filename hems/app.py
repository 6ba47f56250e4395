"""Composition root: the one place that wires config, devices, agent, store, web and the aggregator.

`hems run --config FILE` runs the agent on real devices with the system clock.
`Runtime` is also what the simulated-home demo and the end-to-end tests start.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hems import systemd
from hems.config import Config, ConfigError, load_config
from hems.control.agent import Agent, AgentSettings
from hems.control.decide import CarLimits
from hems.control.devices import ChargerOutput, DeviceSlot
from hems.control.safety import SafetyLimits
from hems.control.settings import OwnerSettings
from hems.domain.clock import Clock, ScaledClock, SystemClock

log = logging.getLogger(__name__)


def agent_settings(config: Config, clock: Clock | None = None) -> AgentSettings:
    site, ev = config.site, config.ev
    limits = SafetyLimits(
        phases=site.phases, voltage_v=site.voltage_v, main_fuse_a=site.main_fuse_a,
        max_import_w=site.max_import_w, max_export_w=site.max_export_w,
        min_charge_w=ev.min_charge_w, max_charge_w=ev.max_charge_w,
        min_discharge_w=ev.min_discharge_w, max_discharge_w=ev.max_discharge_w,
        reserve_pct=ev.reserve_pct, max_soc_pct=ev.max_soc_pct,
    )
    car = CarLimits(capacity_wh=ev.capacity_wh, min_charge_w=ev.min_charge_w,
                    max_charge_w=ev.max_charge_w, charge_efficiency=ev.charge_efficiency,
                    max_soc_pct=ev.max_soc_pct)
    charger = config.device("charger")
    comm_s = charger.comm_timeout_s if charger is not None and charger.comm_timeout_s else 30.0
    heartbeat_s = min(10.0, comm_s / 3.0)
    if config.bridge is not None:       # the bridge's watchdog wants a faster heartbeat
        heartbeat_s = min(heartbeat_s, config.bridge.heartbeat_interval_s)
    loop_s = min(heartbeat_s, *(d.poll_interval_s for d in config.devices))
    # request timeouts run in real seconds: a clock faster than real time counts more of its own
    timeout_scale = clock.speedup if isinstance(clock, ScaledClock) else 1.0
    return AgentSettings(
        limits=limits, car=car, timezone=ZoneInfo(site.timezone),
        loop_interval_s=loop_s, replan_interval_s=float(config.planner.interval_s),
        heartbeat_interval_s=heartbeat_s, timeout_scale=timeout_scale,
    )


def bridge_devices(cfg: Config, clock: Clock) -> dict[str, Any]:
    """The devices behind the microcontroller bridge, named as in the config, plus its
    frequency source under "bridge_frequency" (it runs the local frequency response)."""
    wanted = {d.profile: d.name for d in cfg.devices if d.transport == "bridge"}
    if cfg.bridge is None:
        return {}
    from hems.devices.bridge import build_bridge_devices

    b = cfg.bridge
    built = build_bridge_devices(
        b.serial_port, baudrate=b.baudrate, phases=cfg.site.phases, voltage_v=cfg.site.voltage_v,
        max_current_a=b.max_current_a, heartbeat_timeout_s=b.heartbeat_timeout_s,
        s0_imp_per_kwh=b.s0_imp_per_kwh, clock=clock)
    out: dict[str, Any] = {"bridge_frequency": built["bridge_frequency"]}
    if "bridge_pilot" in wanted:
        out[wanted["bridge_pilot"]] = built["bridge_charger"]
    if "bridge_s0" in wanted:
        if "bridge_s0" not in built:
            raise ValueError("a bridge_s0 meter needs bridge.s0_imp_per_kwh")
        out[wanted["bridge_s0"]] = built["bridge_s0"]
    return out


def ocpp_devices(cfg: Config, clock: Clock) -> dict[str, Any]:
    """The chargers that connect to the local OCPP server ([ocpp]), named as in the config."""
    if cfg.ocpp is None:
        return {}
    from hems.devices.ocpp import OcppSettings
    from hems.devices.ocpp.factory import build_ocpp_devices

    o = cfg.ocpp
    settings = OcppSettings(
        bind=o.bind, port=o.port, security_profile=o.security_profile, tls_cert_file=o.tls_cert_file,
        tls_key_file=o.tls_key_file, tls_ca_file=o.tls_ca_file, heartbeat_interval_s=o.heartbeat_interval_s,
        meter_interval_s=o.meter_interval_s, fallback_current_a=o.fallback_current_a, id_tokens=o.id_tokens,
        max_message_bytes=o.max_message_bytes, status_file=cfg.storage.data_dir / "ocpp_status.json")
    return build_ocpp_devices(settings, cfg.devices, voltage_v=cfg.site.voltage_v, phases=cfg.site.phases,
                              clock=clock)


def droop_settings(cfg: Config) -> Any:
    """The bridge's local fast frequency response, from [bridge]; None without a bridge."""
    if cfg.bridge is None:
        return None
    from hems.devices.bridge import DroopSettings

    b = cfg.bridge
    return DroopSettings(enabled=b.droop_enabled, deadband_hz=b.droop_deadband_hz,
                         slope_a_per_hz=b.droop_slope_a_per_hz, min_a=0.0, max_a=b.max_current_a)


def build_agent(cfg: Config, clock: Clock) -> tuple[Agent, Any, Any]:
    """The agent wired to its store, forecaster, planner and device pollers (not started).

    The owner's saved settings (site limits, tariff, schedule, preferences, aggregator
    enrolment) are loaded by the agent's settings owner from the store; config.toml gives the
    installer's values and limits. The agent's `config` is the config file as loaded."""
    from hems.control.forecasting import Forecaster
    from hems.control.planning import make_replan
    from hems.devices.factory import build_devices
    from hems.devices.poller import DevicePoller
    from hems.sources.factory import price_feed as make_price_feed, pv_feed as make_pv_feed
    from hems.store import Store

    holder: dict[str, Forecaster] = {}

    def price_at(minute_utc: datetime) -> tuple[float, float]:
        """(import, export) price per kWh of one minute, for the store's cost column."""
        imp, exp = holder["forecaster"].prices([minute_utc], minute_utc)
        return float(imp[0]), float(exp[0])

    cfg.storage.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.storage.data_dir / "hems.sqlite", flush_interval_s=cfg.storage.flush_interval_s,
                  clock=clock, prices=price_at)
    try:
        owner = OwnerSettings(cfg, store)
        forecaster = holder["forecaster"] = Forecaster(cfg, store, price_feed=make_price_feed(cfg, clock),
                                                       pv_feed=make_pv_feed(cfg, clock))
        forecaster.set_tariff(owner.tariff)
        devices = build_devices([d for d in cfg.devices if d.transport not in ("bridge", "ocpp")], clock=clock)
        devices.update(bridge_devices(cfg, clock))
        devices.update(ocpp_devices(cfg, clock))
    except Exception:
        store.close()
        raise
    slots = []
    charger = None
    for dc in cfg.devices:
        poller = DevicePoller(devices[dc.name], poll_interval_s=dc.poll_interval_s,
                              timeout_s=dc.timeout_s, clock=clock, role=dc.role)
        slots.append(DeviceSlot(dc.name, dc.role, poller, dc.poll_interval_s, dc.timeout_s,
                                device=devices[dc.name]))
        if dc.role == "charger":
            charger = ChargerOutput(dc.name, devices[dc.name])
    agent = Agent(agent_settings(cfg, clock), slots, clock, owner=owner, store=store,
                  replan=make_replan(cfg, forecaster), charger=charger, prices=forecaster,
                  frequency_source=devices.get("bridge_frequency"))
    agent.config = cfg
    return agent, store, forecaster


@dataclass
class Runtime:
    """A running agent with its web server, store and (optional) aggregator link."""
    config: Config
    clock: Clock
    agent: Agent | None = None
    store: Any = None
    web_runner: web.AppRunner | None = None
    web_app: web.Application | None = None
    link: Any = None
    forecaster: Any = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    restart_requested: asyncio.Event = field(default_factory=asyncio.Event)
    restarts: int = 0
    restarted: asyncio.Event = field(default_factory=asyncio.Event)    # set after each restart
    _watcher: asyncio.Task | None = field(default=None, repr=False)

    async def start(self) -> None:
        self.agent, self.store, self.forecaster = build_agent(self.config, self.clock)
        self.config = self.agent.config
        await self.agent.start(droop=droop_settings(self.config))
        await self._start_web()
        await self._start_link()
        self.tasks.append(asyncio.create_task(self.agent.run(), name="agent"))
        self._start_feeds()
        self.tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._restart_on_request(), name="restart")
        systemd.notify_ready()

    def feeds(self) -> list[Any]:
        """The price and PV forecast feeds (live or not)."""
        f = self.forecaster
        return [x for x in (f.price_feed, f.pv_feed) if x is not None]

    def _start_feeds(self) -> None:
        """Fetch live prices and forecasts; new data makes the agent replan."""
        from hems.sources.runner import run_feeds

        live = connect_feeds(self.agent, self.feeds())
        if live:
            self.tasks.append(asyncio.create_task(run_feeds(live, self.clock), name="sources"))

    async def _restart_on_request(self) -> None:
        """The owner asked for a restart (settings that apply at the next start): stop every
        part and start again in this process, with the saved settings read afresh."""
        while True:
            await self.restart_requested.wait()
            self.restart_requested.clear()
            log.info("restarting: the owner's saved settings apply now")
            await self._stop_parts()
            try:
                await self.start()
                self.restarts += 1
                self.restarted.set()
            except Exception as exc:
                log.error("hems cannot start again: %s", exc)

    async def _start_web(self) -> None:
        from hems.web.server import create_web_app

        app = create_web_app(self.agent, self.store, self.config, self.clock,
                             restart=self.restart_requested.set)
        self.web_app = app
        from hems.web.sources import attach_feeds
        attach_feeds(app, self.feeds())
        # open live-update streams must not hold a stop up for long
        self.web_runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
        await self.web_runner.setup()
        site = web.TCPSite(self.web_runner, self.config.web.bind, self.config.web.port)
        await site.start()
        log.info("web UI on http://%s:%d/", self.config.web.bind, self.config.web.port)

    async def _start_link(self) -> None:
        agg = self.agent.owner.aggregator()          # config.toml's, with the owner's enrolment
        if agg is None or not agg.enabled:
            return
        from hems.aggregator.link import AggregatorLink

        from hems.web.views import attach_aggregator

        self.link = AggregatorLink(agg, self.agent, self.store, self.clock)
        await self.link.start()
        if self.web_app is not None:
            attach_aggregator(self.web_app, self.link)

    async def _housekeeping(self) -> None:
        """Flush batched writes and feed the systemd watchdog while the loop is alive."""
        while True:
            await asyncio.sleep(5.0)
            systemd.notify_watchdog()
            state = self.agent.state if self.agent else None
            if state is not None:
                systemd.notify_status(status_line(self.agent))
            if self.store is not None:
                self.store.maybe_flush()

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        await self._stop_parts()

    async def _stop_parts(self) -> None:
        if self.agent is not None:
            self.agent.request_stop()       # the loop ends after its tick even if a cancel is lost
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=10.0)
            for task in pending:            # a cancellation swallowed by a library: ask once more
                log.warning("task %s did not stop; cancelling again", task.get_name())
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
        if self.link is not None:
            await self.link.stop()
        if self.agent is not None:
            await self.agent.stop()
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        if self.store is not None:
            self.store.close()
        self.tasks, self.link, self.web_runner = [], None, None


def connect_feeds(agent: Agent, feeds: list[Any]) -> list[Any]:
    """The feeds that fetch, each set to make the agent replan when new data arrives."""
    live = [f for f in feeds if f.live]
    for feed in live:
        feed.on_update = agent.request_replan
    return live


def status_line(agent: Agent) -> str:
    """One line of what the home does now, for the terminal and systemd."""
    st, sp = agent.state, agent.last_setpoint
    if st is None:
        return "waiting for the first measurements"
    def w(x: float | None) -> str:
        return "  n/a" if x is None else f"{x / 1000 + 0.0:5.2f}".replace("-0.00", " 0.00")
    grid = st.meter.grid_power_w if st.meter else None
    pv = st.pv.pv_power_w if st.pv else None
    ev = st.charger.ev_power_w if st.charger else None
    soc = st.charger.soc_pct if st.charger and st.charger.soc_pct is not None else None
    plugged = "plugged" if st.charger and st.charger.plugged else "away"
    soc_s = f"{soc:5.1f} %" if soc is not None else "  n/a"
    reason = sp.reason if sp else ""
    local = st.at.astimezone(agent.settings.timezone)
    return (f"{local:%a %Y-%m-%d %H:%M} | pv {w(pv)} kW | house {w(st.load_w)} kW | "
            f"grid {w(grid)} kW | car {w(ev)} kW {soc_s} {plugged} | {reason}")


async def run_until_signalled(runtime: Runtime) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
    except Exception as exc:       # a broken profile, a port in use, an unreadable data dir
        log.error("hems cannot start: %s", exc)
        await runtime.stop()
        return 1
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await runtime.stop()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config.toml", help="config file (default: config.toml)")


def load_or_report(path: str) -> Config | None:
    """The config, or None after printing every error in it."""
    try:
        return load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line)
        return None


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    return asyncio.run(run_until_signalled(Runtime(config, SystemClock())))
