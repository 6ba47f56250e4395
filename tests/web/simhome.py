"""The real agent (hems.app.Runtime) on the simulated home, on free ports, for browser tests."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator

from hems.app import Runtime
from hems.config import SimConfig, load_config
from hems.demo import make_home, sim_start
from hems.domain.clock import ManualClock, ScaledClock
from tests.conftest import free_port
from tests.simhome import HomeRig

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def sim_runtime(data_dir: Path, speedup: float = 60.0, day: str | None = None,
                      hour: float = 0.0, no_soc: bool = False) -> AsyncIterator[tuple[Runtime, str]]:
    """Start the simulated home and hems on it (config.toml with free ports) on `day` (ISO date,
    default [sim] start) at `hour` local time; yield (runtime, url)."""
    cfg = load_config(ROOT / "config.toml")
    cfg = replace(cfg, devices=tuple(replace(d, port=free_port()) for d in cfg.devices),
                  web=replace(cfg.web, bind="127.0.0.1", port=free_port()),
                  storage=replace(cfg.storage, data_dir=data_dir, flush_interval_s=2.0), aggregator=None)
    sim = replace(cfg.sim or SimConfig(), speedup=speedup, no_soc=no_soc)
    if day is not None:
        sim = replace(sim, start=day)
    start = sim_start(cfg, sim) + timedelta(hours=hour)
    clock = ScaledClock(start, sim.speedup)
    home = make_home(cfg, clock, start, sim)
    await home.start()
    await home.run(step_s=1.0)
    runtime = Runtime(cfg, clock)
    try:
        await runtime.start()
        yield runtime, f"http://127.0.0.1:{cfg.web.port}"
    finally:
        await runtime.stop()
        await home.stop()


async def record_history(data_dir: Path, start: datetime, hours: float, step_s: float = 60.0) -> None:
    """Run the real agent on the simulated home with a manual clock from `start` (UTC) for
    `hours`, one tick per `step_s`, so the store in `data_dir` holds that history."""
    clock = ManualClock(start)
    async with HomeRig(clock, start, data_dir, devices={"charger": {"comm_timeout_s": 300}}) as rig:
        for _ in range(int(hours * 3600 / step_s)):
            clock.advance(step_s)
            rig.home.step(clock.now())
            await rig.agent.tick(wait_for_plan=True)
        rig.store.flush(include_current_minute=True)
