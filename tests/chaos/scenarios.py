"""Fault scenarios on the chaos rig, shared by tests/chaos and bench/robustness.py.

Each scenario starts from a home charging the car in Fast mode with fresh data, injects one
fault, holds it, clears it and measures in clock seconds (what a real home would see: the rig's
Modbus timeouts are the config's, scaled with the clock):
  time_to_safe_s  fault -> the agent's setpoint is 0 W (meter and charger faults only)
  detect_s        fault -> the agent marks the device stale (None: it never had to)
  recovery_s      fault cleared -> fresh data from every device and charging again
  log_lines       WARNING-and-up lines from the fault to the recovery (all loggers)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hems.domain import Mode
from tests.chaos.rig import ChaosRig

SAFETY_ROLES = ("meter", "charger")


@dataclass
class Outcome:
    name: str
    fault_s: float
    time_to_safe_s: float | None = None
    detect_s: float | None = None
    recovery_s: float | None = None
    log_lines: int = 0
    tracebacks: int = 0
    violations: list = field(default_factory=list)
    ok: bool = True
    note: str = ""


async def settle(rig: ChaosRig, max_steps: int = 40) -> bool:
    """Back to the baseline: Fast mode, every device fresh, the car charging."""
    if rig.agent.preferences.mode is not Mode.FAST:
        await rig.mode(Mode.FAST)
    return await rig.until(lambda: rig.agent.state.stale == () and rig.agent.last_setpoint is not None
                           and rig.agent.last_setpoint.ev_power_w > 0, max_steps) is not None


async def modbus_fault(rig: ChaosRig, role: str, mode: str, fault_s: float = 20.0,
                       recover_max_s: float = 60.0) -> Outcome:
    out = Outcome(f"{role}: {mode}", fault_s)
    if not await settle(rig):
        out.ok, out.note = False, "no baseline"
        return out
    lines0, tb0, v0 = rig.logs.lines, rig.logs.tracebacks, len(rig.monitor.violations)
    proxy = rig.proxies[role]
    proxy.delay_s = 2.0                       # real seconds: beyond the request timeout
    proxy.set_mode(mode)
    t0 = rig.t_s
    while rig.t_s - t0 < fault_s:
        await rig.step()
        if out.time_to_safe_s is None and rig.agent.last_setpoint.ev_power_w == 0:
            out.time_to_safe_s = rig.t_s - t0
        if out.detect_s is None and role in rig.agent.state.stale:
            out.detect_s = rig.t_s - t0
    proxy.set_mode("normal")
    out.recovery_s = await rig.until(lambda: rig.agent.state.stale == () and rig.agent.last_setpoint.ev_power_w > 0,
                                     int(recover_max_s))
    out.log_lines = rig.logs.lines - lines0
    out.tracebacks = rig.logs.tracebacks - tb0
    out.violations = rig.monitor.violations[v0:]
    if role in SAFETY_ROLES:
        out.ok = out.time_to_safe_s is not None and out.detect_s is not None
    out.ok = out.ok and out.recovery_s is not None and not out.violations and out.tracebacks == 0
    return out


async def clock_step(rig: ChaosRig, offset_s: float, hold_s: float = 15.0) -> Outcome:
    """The wall clock jumps (NTP, a Pi without RTC): polling and charging carry on."""
    out = Outcome(f"clock: {offset_s:+.0f} s step", hold_s)
    if not await settle(rig):
        out.ok, out.note = False, "no baseline"
        return out
    lines0, tb0, v0 = rig.logs.lines, rig.logs.tracebacks, len(rig.monitor.violations)
    polls0 = {n: s.poller.polls for n, s in rig.agent._slots.items()}
    rig.clock.offset_s += offset_s
    t0 = rig.t_s
    stale_seen = False
    while rig.t_s - t0 < hold_s:
        await rig.step()
        stale_seen |= rig.agent.state.stale != ()
    polled = all(s.poller.polls > polls0[n] + 3 for n, s in rig.agent._slots.items())
    out.log_lines = rig.logs.lines - lines0
    out.tracebacks = rig.logs.tracebacks - tb0
    out.violations = rig.monitor.violations[v0:]
    out.recovery_s = 0.0 if not stale_seen else None
    out.ok = polled and not stale_seen and rig.agent.last_setpoint.ev_power_w > 0 and not out.violations
    out.note = "" if polled else "polling stopped"
    return out


def table_row(o: Outcome) -> str:
    f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    per_min = f"{o.log_lines / (o.fault_s / 60.0):.1f}" if o.fault_s >= 5 else "-"
    result = ("ok" if o.ok else "FAIL") + (f" ({o.note})" if o.note else "")
    return (f"{o.name:<28} {f(o.time_to_safe_s):>8} {f(o.detect_s):>8} {f(o.recovery_s):>9} "
            f"{o.log_lines:>6} {per_min:>9} {len(o.violations):>5}  {result}")


async def discharge_faults(rig: ChaosRig) -> list[Outcome]:
    """V2G: the car discharges for an aggregator event. (1) The meter dies: discharge must stop
    (no export the fuse and export checks cannot see). (2) The reserve is reached: discharge stops
    at the owner's reserve."""
    from datetime import timedelta

    from hems.domain import Commitment, Preferences

    outs = []
    if not await settle(rig):
        return [Outcome("discharge: baseline", 0.0, ok=False, note="no baseline")]
    now = rig.clock.now()
    # a commitment in force as such (no arbitration against the plan): the fault is the subject here
    await rig.agent.resume(Commitment("chaos-v2g", now - timedelta(minutes=1), now + timedelta(hours=2),
                                      -7000.0, -7000.0, 5), regulation=False)
    discharging = await rig.until(lambda: rig.agent.last_setpoint.ev_power_w < 0 and rig.home.ev_w < -1000, 20)
    out = Outcome("discharging: meter dead", 15.0)
    if discharging is None:
        out.ok, out.note = False, "never discharged"
        return [out]
    lines0, v0 = rig.logs.lines, len(rig.monitor.violations)
    rig.proxies["meter"].set_mode("refuse")
    t0 = rig.t_s
    while rig.t_s - t0 < out.fault_s:
        await rig.step()
        if out.time_to_safe_s is None and rig.agent.last_setpoint.ev_power_w == 0:
            out.time_to_safe_s = rig.t_s - t0
        if out.detect_s is None and "meter" in rig.agent.state.stale:
            out.detect_s = rig.t_s - t0
    rig.proxies["meter"].set_mode("normal")
    out.recovery_s = await rig.until(lambda: rig.agent.state.stale == () and rig.agent.last_setpoint.ev_power_w < 0, 40)
    out.log_lines = rig.logs.lines - lines0
    out.violations = rig.monitor.violations[v0:]
    out.ok = None not in (out.time_to_safe_s, out.recovery_s) and not out.violations
    outs.append(out)
    # the reserve: set it just below the present SoC; discharge must end there
    out = Outcome("discharging: reserve reached", 0.0)
    soc_pct = rig.home.car_soc_pct
    reserve_pct = soc_pct - 0.2
    rig.monitor.reserve_pct = reserve_pct
    v0 = len(rig.monitor.violations)
    await rig.agent.set_preferences(Preferences(mode=rig.agent.preferences.mode, reserve_pct=reserve_pct), who="chaos")
    t0 = rig.t_s
    stopped = await rig.until(lambda: rig.agent.last_setpoint.ev_power_w == 0
                              and "reserve" in rig.agent.last_setpoint.clamped_by, 200)
    out.violations = rig.monitor.violations[v0:]
    out.ok = stopped is not None and not out.violations and rig.home.car_soc_pct >= reserve_pct - 0.5
    out.note = f"stopped at {rig.home.car_soc_pct:.2f} % (reserve {reserve_pct:.2f} %) after {rig.t_s - t0:.0f} s"
    await rig.agent.cancel("chaos-v2g")
    outs.append(out)
    return outs
