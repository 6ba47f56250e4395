"""The safety rules of ARCHITECTURE.md as one pure function. Every setpoint passes through it.

`clamp(request_w, state, limits, reason, soc=...)` returns a Setpoint whose power obeys, in this order:
  0. a non-finite request (NaN, +/-Infinity) -> 0 W;
  1. data: a missing or stale meter or charger reading -> 0 W (the safe state: no discharge, and
     no charging we cannot check against the fuse);
  2. car: unplugged or faulted -> 0 W; no discharge unless `may_discharge(soc, reserve)`: the
     state of charge is known (measured, entered or estimated) and its lowest bound
     (`soc_pct - error_pct`) is above the reserve, so an estimate stops discharging as much
     earlier as it may be wrong, and an unknown level never discharges; at/above max_soc (the
     charger's measured value, else the lowest bound of what is known) -> no charging;
  3. charger: at most max_charge_w / max_discharge_w, and at most what the charger itself says it
     can take now (its reading's max_charge_w / max_discharge_w);
  4. site: per phase, the current with the new EV power stays within the main fuse, and the grid
     power stays within max_import_w and max_export_w;
  5. AC minimum: a charge below min_charge_w (or a discharge below min_discharge_w) becomes 0.
Each rule that changed the request is named in `clamped_by`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from hems.domain import ChargerReading, ChargerState, Setpoint, SiteState
from hems.domain.soc import SocKnowledge, SocSource, may_discharge


@dataclass(frozen=True)
class SafetyLimits:
    phases: int                 # phases the charger and the fuse have (1 or 3)
    voltage_v: float            # phase-to-neutral
    main_fuse_a: float          # per phase
    max_import_w: float
    max_export_w: float         # positive number: the most the site may send to the grid
    min_charge_w: float
    max_charge_w: float
    min_discharge_w: float      # positive magnitudes
    max_discharge_w: float
    reserve_pct: float
    max_soc_pct: float = 100.0


class _FromReading:
    """The default of `clamp`'s soc: the charger's own measured value, exact."""


FROM_READING = _FromReading()


def measured(reading: ChargerReading) -> SocKnowledge | None:
    """The charger's own reading as knowledge (no error), or None when it reports no level."""
    if reading.soc_pct is None:
        return None
    return SocKnowledge(float(reading.soc_pct), SocSource.MEASURED, reading.at)


def clamp(request_w: float, state: SiteState, limits: SafetyLimits, reason: str,
          soc: SocKnowledge | None | _FromReading = FROM_READING) -> Setpoint:
    """Apply every safety rule to a requested EV power (W, + charging). `soc` is what is known
    of the car's level (the agent's SoC knowledge); by default the charger's reading alone."""
    rules: list[str] = []
    power_w = float(request_w)
    if not math.isfinite(power_w):     # NaN compares false with every bound: refuse it outright
        return Setpoint(at=state.at, ev_power_w=0.0, reason=reason, clamped_by=("non_finite",))

    def limit(new_w: float, rule: str) -> None:
        nonlocal power_w
        if abs(new_w - power_w) > 1e-6:
            power_w = new_w
            rules.append(rule)

    if state.meter is None or state.charger is None or {"meter", "charger"} & set(state.stale):
        limit(0.0, "stale_data")
        return Setpoint(at=state.at, ev_power_w=0.0, reason=reason, clamped_by=tuple(rules))

    car = state.charger
    faulted = car.state is ChargerState.FAULT or bool(car.fault)
    if faulted or not car.plugged:
        limit(0.0, "fault" if faulted else "unplugged")
        return Setpoint(at=state.at, ev_power_w=0.0, reason=reason, clamped_by=tuple(rules))
    known = measured(car) if isinstance(soc, _FromReading) else soc
    if power_w < 0 and not may_discharge(known, limits.reserve_pct):
        limit(0.0, "reserve")
    level_pct = car.soc_pct if car.soc_pct is not None else (known.low_pct if known is not None else None)
    if power_w > 0 and level_pct is not None and level_pct >= limits.max_soc_pct:
        limit(0.0, "max_soc")

    max_charge_w = min(limits.max_charge_w, _or_inf(car.max_charge_w))
    max_discharge_w = min(limits.max_discharge_w, _or_inf(car.max_discharge_w))
    if power_w > max_charge_w:
        limit(max_charge_w, "max_charge")
    if power_w < -max_discharge_w:
        limit(-max_discharge_w, "max_discharge")

    low_w, high_w = site_bounds_w(state, limits)
    if power_w > high_w:
        limit(max(high_w, min(0.0, power_w)), "fuse_or_import")
    if power_w < low_w:
        limit(min(low_w, max(0.0, power_w)), "export_limit_or_fuse")

    if 0 < power_w < limits.min_charge_w - 1e-6:
        limit(0.0, "min_charge")
    if -limits.min_discharge_w + 1e-6 < power_w < 0:
        limit(0.0, "min_discharge")
    return Setpoint(at=state.at, ev_power_w=power_w, reason=reason, clamped_by=tuple(rules))


def _or_inf(value: float | None) -> float:
    return float("inf") if value is None else max(0.0, float(value))


def site_bounds_w(state: SiteState, limits: SafetyLimits) -> tuple[float, float]:
    """The range of EV power (W) the site allows, given what everything else draws now.

    The EV's present power is taken out of the measured grid power (spread evenly over the
    charger's phases) to find the rest of the house; then the fuse (each phase, both ways) and
    the import/export limits bound the new EV power.
    """
    assert state.meter is not None and state.charger is not None
    ev_now_w = state.charger.ev_power_w
    rest_grid_w = state.meter.grid_power_w - ev_now_w
    high_w = limits.max_import_w - rest_grid_w
    low_w = -limits.max_export_w - rest_grid_w

    phase_w = state.meter.phase_power_w
    if len(phase_w) != limits.phases:
        phase_w = tuple([state.meter.grid_power_w / limits.phases] * limits.phases)
    fuse_phase_w = limits.main_fuse_a * limits.voltage_v
    for p_w in phase_w:
        rest_phase_w = p_w - ev_now_w / limits.phases
        high_w = min(high_w, (fuse_phase_w - rest_phase_w) * limits.phases)
        low_w = max(low_w, (-fuse_phase_w - rest_phase_w) * limits.phases)
    return low_w, high_w
