"""Read the charge level of a car behind a charger that reports it only while power flows (pure).

The Wallbox Quasar's SoC register reads 0 whenever no power flows. With the car plugged in, idle
and nothing known, a short charge at the minimum power makes the car report its level, as real
Quasar integrations do. `probe` says whether to charge now for that, and for how long at most:
- only while the car is plugged in and idle, nothing is known, and the owner's mode allows
  charging (never in Off);
- at most `duration_s` per attempt, at the charger's minimum power; then wait `retry_s` before
  another try, so a car that never tells does not charge in bursts all day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ProbeState:
    started_at: datetime | None = None       # the attempt under way, or the last one
    done: bool = False                       # a level was read since the car was plugged in


@dataclass(frozen=True)
class ProbeRules:
    min_power_w: float
    duration_s: float = 90.0
    retry_s: float = 3600.0


def probe(state: ProbeState, now: datetime, *, plugged: bool, soc_known: bool, mode_allows_charge: bool,
          rules: ProbeRules) -> tuple[float | None, ProbeState]:
    """(power to charge at now, or None for no probe; the next state)."""
    if not plugged:
        return None, ProbeState()                        # a new car may come: forget
    if soc_known:
        return None, ProbeState(state.started_at, done=True)
    if not mode_allows_charge or state.done:
        return None, state
    if state.started_at is not None:
        elapsed = now - state.started_at
        if elapsed < timedelta(0):                       # the clock stepped back: end this attempt
            return None, ProbeState(started_at=now - timedelta(seconds=rules.duration_s))
        if elapsed < timedelta(seconds=rules.duration_s):
            return rules.min_power_w, state
        if elapsed < timedelta(seconds=rules.duration_s + rules.retry_s):
            return None, state
    return rules.min_power_w, ProbeState(started_at=now)
