"""The chaos rig: the simulated home, a Modbus fault proxy in front of each device, the real
agent built as `hems run` builds it, a switchable wall-clock offset, and a safety monitor.

Time runs SPEEDUP times faster than real time (a ScaledClock), so Modbus timeouts, delays and
reconnects are real while a scenario of a minute takes seconds. The devices keep their own
clock (`home_clock`); the agent sees it through a SteppedClock whose offset a scenario switches
(`rig.clock.offset_s = -3600`): an NTP step on the Pi, not in the devices. `rig.step()` waits
one loop period, steps the physics and ticks the agent; the monitor checks the invariants on
the physical truth after every step. Times are clock seconds.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hems.app import build_agent
from hems.demo import make_home
from hems.domain import Mode, Preferences
from hems.domain.clock import ScaledClock, SteppedClock
from tests.chaos.faultproxy import ModbusFaultProxy
from tests.simhome import sim_config

START = datetime(2024, 6, 3, 20, 0, tzinfo=timezone.utc)     # Monday evening: the car is home
ROLES = ("meter", "pv", "charger")
LOOP_S = 1.0
TIMEOUT_S = 0.3            # real seconds per Modbus request (3 clock seconds at SPEEDUP)
SPEEDUP = 10.0


@dataclass
class Violation:
    at_s: float
    rule: str
    detail: str


@dataclass
class SafetyMonitor:
    """Invariants on what the home really does (the simulator's truth), checked every step.

    fuse      no phase above the main fuse while the car adds current to it
    import    grid import above max_import_w while the car charges
    export    grid export above max_export_w while the car discharges
    reserve   the car discharging at or below the owner's reserve
    stale     the agent's setpoint not 0 W while the meter or the charger is stale
    A site limit may be crossed for one loop (the house load changes between two polls and
    the agent answers on the next); crossed on two consecutive steps it is a violation.
    """
    fuse_a: float
    max_import_w: float
    max_export_w: float
    reserve_pct: float
    samples: int = 0
    violations: list[Violation] = field(default_factory=list)
    _pending: dict[str, int] = field(default_factory=dict)

    def check(self, t_s: float, home: Any, agent: Any) -> None:
        self.samples += 1
        ev_w = home.ev_w
        over = {
            "fuse": ev_w > 50 and max(home.phase_current_a) > self.fuse_a + 0.5,
            "import": ev_w > 50 and home.grid_w > self.max_import_w + 100,
            "export": ev_w < -50 and home.grid_w < -self.max_export_w - 100,
        }
        for rule, bad in over.items():
            self._pending[rule] = self._pending.get(rule, 0) + 1 if bad else 0
            if self._pending[rule] == 2:
                self.violations.append(Violation(t_s, rule, f"ev {ev_w:.0f} W grid {home.grid_w:.0f} W "
                                                            f"phases {home.phase_current_a}"))
        if ev_w < -50 and home.car_soc_pct <= self.reserve_pct - 0.5:
            self.violations.append(Violation(t_s, "reserve", f"discharging {ev_w:.0f} W at {home.car_soc_pct:.1f} %"))
        state, sp = agent.state, agent.last_setpoint
        if state is not None and sp is not None and {"meter", "charger"} & set(state.stale) and sp.ev_power_w != 0:
            self.violations.append(Violation(t_s, "stale", f"setpoint {sp.ev_power_w:.0f} W with {state.stale} stale"))


class LogCounter(logging.Handler):
    """Counts log lines (WARNING and up, and tracebacks) while the rig runs: hems, asyncio, pymodbus."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines = 0
        self.tracebacks = 0
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        if record.exc_info:
            self.tracebacks += 1
        self.messages.append(f"{record.name}: {record.getMessage()}"[:300])


class ChaosRig:
    def __init__(self, data_dir: Path, start: datetime = START, seed: int = 1, **sections: Any) -> None:
        self.data_dir = data_dir
        self.home_clock = ScaledClock(start, SPEEDUP)
        self.clock = SteppedClock(self.home_clock)
        self.start_at, self.seed, self.sections = start, seed, sections
        self.proxies: dict[str, ModbusFaultProxy] = {}
        self.home = self.agent = self.store = self.config = None
        self.monitor: SafetyMonitor | None = None
        self.logs = LogCounter()
        self.t_s = 0.0

    async def __aenter__(self) -> "ChaosRig":
        base = sim_config(self.data_dir, **self.sections)
        self.home = make_home(base, self.home_clock, self.start_at, replace(base.sim, seed=self.seed))
        self.home.ports = {r: 0 for r in ROLES}
        await self.home.start()
        for role in ROLES:
            proxy = ModbusFaultProxy("127.0.0.1", self.home.ports[role], seed=self.seed)
            await proxy.start()
            self.proxies[role] = proxy
        devices = {r: {"port": self.proxies[r].port, "timeout_s": TIMEOUT_S, "poll_interval_s": LOOP_S}
                   for r in ROLES}
        devices["pv"]["poll_interval_s"] = 2 * LOOP_S
        self.config = sim_config(self.data_dir, **{**self.sections, "devices": devices})
        self.agent, self.store, _ = build_agent(self.config, self.clock)
        await self.agent.start()
        site, ev = self.config.site, self.config.ev
        self.monitor = SafetyMonitor(site.main_fuse_a, site.max_import_w, site.max_export_w, ev.reserve_pct)
        logging.getLogger().addHandler(self.logs)
        return self

    async def __aexit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.logs)
        await self.agent.stop()
        self.store.close()
        for proxy in self.proxies.values():
            await proxy.stop()
        await self.home.stop()

    async def mode(self, mode: Mode, reserve_pct: float = 20.0) -> None:
        await self.agent.set_preferences(Preferences(mode=mode, reserve_pct=reserve_pct), who="chaos")

    async def step(self, n: int = 1) -> None:
        for _ in range(n):
            await self.home_clock.sleep(LOOP_S)
            self.home.step(self.home_clock.now())
            await self.agent.tick()
            self.t_s = self.home_clock.monotonic()
            self.monitor.check(self.t_s, self.home, self.agent)

    async def until(self, predicate, max_steps: int) -> float | None:
        """Step until predicate() holds; the clock seconds it took, or None."""
        t0 = self.t_s
        for _ in range(max_steps):
            await self.step()
            if predicate():
                return self.t_s - t0
        return None

    def fresh(self, role: str) -> bool:
        return self.agent.state is not None and role not in self.agent.state.stale \
            and getattr(self.agent.state, role) is not None
