"""`hems demo`: the simulated home and the agent on it, with the web UI.

A simulated meter, PV inverter and bidirectional charger (with a car that leaves and comes back)
are served over real Modbus TCP on 127.0.0.1, driven by a real year of house load and PV and
day-ahead prices, faster than real time. The agent runs on them through the same drivers it uses
for real devices. When mosquitto is installed, a local broker and a simulated aggregator that
sends a few events show the aggregator path as well. Ctrl-C stops everything.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import sys
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from hems.app import Runtime, load_or_report, status_line
from hems.config import Config, SimConfig
from hems.domain.clock import ScaledClock

log = logging.getLogger(__name__)


def sim_start(config: Config, sim: SimConfig) -> datetime:
    """Midnight local time of the configured start date, in UTC."""
    day = datetime.fromisoformat(sim.start).date()
    return datetime.combine(day, time(0), ZoneInfo(config.site.timezone)).astimezone(timezone.utc)


def make_home(config: Config, clock, start: datetime, sim: SimConfig):
    """The simulated home, shaped like the config: its car, charger, PV size and ports."""
    from hems.devices.sim.home import SimHome
    from hems.devices.sim.plant import CarSpec, ChargerSpec

    site, ev = config.site, config.ev
    ports = {d.role: int(d.port) for d in config.devices if d.transport == "tcp" and d.port}
    charger = ChargerSpec(phases=site.phases, voltage_v=site.voltage_v,
                          min_current_a=ev.min_charge_w / (site.phases * site.voltage_v),
                          max_current_a=ev.max_charge_w / (site.phases * site.voltage_v))
    car = CarSpec(capacity_wh=ev.capacity_wh, max_charge_w=ev.max_charge_w,
                  max_discharge_w=ev.max_discharge_w, charge_efficiency=ev.charge_efficiency,
                  discharge_efficiency=ev.discharge_efficiency)
    kinds = {"wallbox_quasar": "quasar", "evtec_bidipro10": "evtec"}
    charger_cfg, meter_cfg = config.device("charger"), config.device("meter")
    ocpp = {}
    if charger_cfg is not None and charger_cfg.transport == "ocpp" and config.ocpp is not None:
        from hems.devices.ocpp.factory import read_password

        kinds["ocpp"] = "ocpp" + sim.ocpp_version
        ocpp = {"ocpp_url": f"ws://127.0.0.1:{config.ocpp.port}/ocpp/{charger_cfg.charge_point_id}",
                "ocpp_password": read_password(charger_cfg.password_file)}
        ports.setdefault("charger", 0)      # the station dials hems: no port of its own
    return SimHome(clock, start, seed=sim.seed, ports=ports if len(ports) == 3 else None,
                   base_port=None if len(ports) == 3 else sim.base_port, car=car, charger=charger,
                   charger_kind=kinds.get(charger_cfg.profile, "sunspec") if charger_cfg else "sunspec",
                   meter_kind="sdm630" if meter_cfg and meter_cfg.profile == "sdm630" else "sunspec",
                   pv_rating_w=site.pv_peak_w or 5000.0, tz=site.timezone, charger_timeout_s=60,
                   no_soc=sim.no_soc, **ocpp)


async def _aggregator_demo(runtime: Runtime):
    """Start a broker and a simulated aggregator when mosquitto is installed; else None."""
    if shutil.which("mosquitto") is None and not shutil.which("/usr/sbin/mosquitto"):
        print("mosquitto is not installed: the aggregator path is not shown "
              "(apt-get install mosquitto to see it)")
        return None
    try:
        from hems.aggregator.demo import start_aggregator_demo
    except ImportError:
        return None
    return await start_aggregator_demo(runtime)


async def demo(config: Config, sim: SimConfig, duration_s: float | None = None) -> None:
    start = sim_start(config, sim)
    clock = ScaledClock(start, sim.speedup)
    home = make_home(config, clock, start, sim)
    await home.start()
    await home.run(step_s=1.0)
    runtime = Runtime(config, clock)
    agg = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
        agg = await _aggregator_demo(runtime)
        host = "localhost" if config.web.bind in ("127.0.0.1", "0.0.0.0") else config.web.bind
        print(f"\nhems demo: the simulated home runs at {sim.speedup:g}x from {sim.start}.")
        print(f"Open the web UI: http://{host}:{config.web.port}/   (Ctrl-C stops)\n")
        tty = sys.stdout.isatty()
        elapsed = 0.0
        while not stop.is_set() and (duration_s is None or elapsed < duration_s):
            line = status_line(runtime.agent)
            if tty:
                print("\r" + line[: shutil.get_terminal_size().columns - 1].ljust(
                    shutil.get_terminal_size().columns - 1), end="", flush=True)
            elif int(elapsed) % 10 == 0:
                print(line, flush=True)
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            elapsed += 1.0
    finally:
        print("\nstopping the demo")
        if agg is not None:
            await agg.stop()
        await runtime.stop()
        await home.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config.toml", help="config file (default: config.toml)")
    parser.add_argument("--speedup", type=float, help="simulated seconds per real second (default from [sim])")
    parser.add_argument("--duration", type=float, help="stop after this many real seconds")


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    sim = config.sim or SimConfig()
    if args.speedup:
        sim = replace(sim, speedup=args.speedup)
    asyncio.run(demo(config, sim, args.duration))
    return 0
