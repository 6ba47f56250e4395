"""What the bridge reports, in hems units, and the pure conversions the devices need."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from firmware_bridge import protocol as P
from firmware_bridge.pilot import MIN_CURRENT_DA


@dataclass(frozen=True)
class BridgeStatus:
    at: datetime                      # when the host received it (aware UTC)
    ticks_ms: int                     # the bridge's own ms counter
    frequency_hz: float | None        # None when the bridge has no valid estimate
    pilot_state: str                  # A-F, '?' while unknown
    pilot_high_mv: int
    pilot_low_mv: int
    pilot_set_a: float                # what the host asked for
    pilot_out_a: float                # what the pilot signals now (after droop / watchdog)
    relay_closed: bool                # commanded
    relay_feedback: bool | None       # mirror contact, None when not wired
    faults: tuple[str, ...]
    watchdog_tripped: bool
    droop_active: bool
    charge_enabled: bool
    pulses: int
    pulse_interval_ms: int            # between the last two S0 pulses, 0 = unknown
    ms_since_pulse: int | None        # None before the first pulse
    bad_frames: int                   # frames the bridge dropped
    heartbeat_age_ms: int             # since the bridge last heard a heartbeat

    @classmethod
    def from_fields(cls, at: datetime, f: dict) -> "BridgeStatus":
        relay = f["relay"]
        flags = f["flags"]
        state = chr(f["pilot_state"])
        return cls(
            at=at, ticks_ms=f["uptime_ms"],
            frequency_hz=f["freq_mhz"] / 1000 if flags & P.FL_FREQ_VALID and f["freq_mhz"] else None,
            pilot_state=state if state in "ABCDEF" else "?",
            pilot_high_mv=f["pilot_high_mv"], pilot_low_mv=f["pilot_low_mv"],
            pilot_set_a=f["pilot_set_da"] / 10, pilot_out_a=f["pilot_out_da"] / 10,
            relay_closed=bool(relay & P.RL_COMMANDED),
            relay_feedback=bool(relay & P.RL_FEEDBACK) if relay & P.RL_FEEDBACK_WIRED else None,
            faults=tuple(P.fault_names(f["faults"])),
            watchdog_tripped=bool(flags & P.FL_WATCHDOG_TRIPPED),
            droop_active=bool(flags & P.FL_DROOP_ACTIVE),
            charge_enabled=bool(flags & P.FL_CHARGE_ENABLED),
            pulses=f["pulses"], pulse_interval_ms=f["pulse_interval_ms"],
            ms_since_pulse=None if f["ms_since_pulse"] == 0xFFFFFFFF else f["ms_since_pulse"],
            bad_frames=f["bad_frames"], heartbeat_age_ms=f["watchdog_ms"],
        )


@dataclass(frozen=True)
class DroopSettings:
    """Fast frequency response: outside nominal +/- deadband, the pilot current moves by
    slope_a_per_hz per Hz of deviation (less charging below, more above), within min..max."""
    enabled: bool = False
    nominal_hz: float = 50.0
    deadband_hz: float = 0.2
    slope_a_per_hz: float = 20.0
    min_a: float = 0.0
    max_a: float = 16.0

    def values(self) -> tuple[int, ...]:
        return (int(self.enabled), round(self.nominal_hz * 1000), round(self.deadband_hz * 1000),
                round(self.slope_a_per_hz * 10), round(self.min_a * 10), round(self.max_a * 10))


def power_to_current_da(ev_power_w: float, voltage_v: float, phases: int, max_da: int) -> int:
    """Pilot current (0.1 A) for a charging power: rounded down, 0 below 6 A, capped at max.
    Raises ValueError for a negative or non-finite power (a pilot charger cannot discharge)."""
    if not math.isfinite(ev_power_w):
        raise ValueError(f"power {ev_power_w!r} W is not a number")
    if ev_power_w < 0:
        raise ValueError(f"power {ev_power_w:g} W is a discharge; an AC pilot charger only charges")
    da = int(ev_power_w * 10 // (voltage_v * phases))
    if da < MIN_CURRENT_DA:
        return 0
    return min(da, max_da)


def pulse_power_w(interval_ms: int, since_last_ms: int | None, imp_per_kwh: float) -> float:
    """Power from S0 pulse timing: the last interval, bounded by the time since the last pulse
    (so it falls towards 0 when pulses stop). 0 before two pulses have been seen."""
    if interval_ms <= 0 or since_last_ms is None:
        return 0.0
    wh_per_pulse = 1000.0 / imp_per_kwh
    elapsed_ms = max(interval_ms, since_last_ms)
    return wh_per_pulse * 3_600_000.0 / elapsed_ms


class PulseTotal:
    """Pulses since this host started counting, across bridge resets and 32-bit wraps."""

    def __init__(self) -> None:
        self.total = 0
        self._last: int | None = None

    def update(self, count: int, bridge_reset: bool = False) -> int:
        if self._last is None:
            self._last = count
            return self.total
        if bridge_reset or count < self._last and self._last - count < 2**31:
            self.total += count                 # the bridge restarted from 0
        else:
            self.total += (count - self._last) % 2**32
        self._last = count
        return self.total
