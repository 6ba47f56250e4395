"""Frozen dataclasses for what hems measures, decides and promises.

All powers in W, energies in Wh, state of charge in %, times as aware UTC datetimes.
Signs follow the package docstring: grid + import, EV + charging, PV + generation.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np


class ChargerState(enum.Enum):
    NO_CAR = "no_car"          # nothing plugged in
    CONNECTED = "connected"    # plugged, not transferring power
    CHARGING = "charging"
    DISCHARGING = "discharging"
    FAULT = "fault"
    UNKNOWN = "unknown"


class Mode(enum.Enum):
    SMART = "smart"            # optimised, discharge allowed
    SOLAR_ONLY = "solar_only"  # charge from PV surplus only (plus what the target needs)
    FAST = "fast"              # charge at full power now
    OFF = "off"                # no power at all


@dataclass(frozen=True)
class MeterReading:
    at: datetime
    grid_power_w: float                      # + import, - export
    phase_power_w: tuple[float, ...] = ()
    phase_current_a: tuple[float, ...] = ()  # magnitude per phase
    phase_voltage_v: tuple[float, ...] = ()
    frequency_hz: float | None = None
    import_wh: float | None = None
    export_wh: float | None = None


@dataclass(frozen=True)
class PvReading:
    at: datetime
    pv_power_w: float                        # + generation
    energy_wh: float | None = None
    rated_power_w: float | None = None
    limit_pct: float | None = None           # active curtailment, % of rating, None = none


@dataclass(frozen=True)
class ChargingNeeds:
    """What a car asked for over ISO 15118 (OCPP NotifyEVChargingNeeds): an offered trip.

    An offer for the owner to accept, never a trip by itself."""
    at: datetime                             # when the charger reported it
    departure: datetime | None = None        # when the driver wants to leave (aware UTC)
    energy_wh: float | None = None           # energy the car asks for until then
    target_soc_pct: float | None = None      # the car's own target, when it says one
    capacity_wh: float | None = None         # the battery's capacity, when it says one
    bidirectional: bool = False              # the car offered bidirectional transfer


@dataclass(frozen=True)
class ChargerReading:
    at: datetime
    ev_power_w: float                        # + charging, - discharging
    state: ChargerState
    soc_pct: float | None = None             # None when the charger cannot tell
    setpoint_w: float | None = None          # what the charger says it was told
    max_charge_w: float | None = None
    max_discharge_w: float | None = None
    fault: str | None = None
    needs: ChargingNeeds | None = None       # ISO 15118 departure and energy (OCPP chargers)

    @property
    def plugged(self) -> bool:
        return self.state in (ChargerState.CONNECTED, ChargerState.CHARGING, ChargerState.DISCHARGING)


@dataclass(frozen=True)
class SiteState:
    """Everything the loop knows at one instant. A reading is None when missing or stale."""
    at: datetime
    meter: MeterReading | None
    pv: PvReading | None
    charger: ChargerReading | None
    stale: tuple[str, ...] = ()              # roles whose data is missing or too old

    @property
    def load_w(self) -> float | None:
        if self.meter is None or self.charger is None:
            return None
        pv_w = self.pv.pv_power_w if self.pv is not None else 0.0
        return house_load_w(self.meter.grid_power_w, pv_w, self.charger.ev_power_w)


def house_load_w(grid_power_w: float, pv_power_w: float, ev_power_w: float) -> float:
    """House load from the balance grid = load + ev - pv, never negative."""
    return max(0.0, grid_power_w + pv_power_w - ev_power_w)


@dataclass(frozen=True)
class EvSession:
    """The next trip the owner asked for."""
    departure: datetime
    target_soc_pct: float


@dataclass(frozen=True)
class Preferences:
    mode: Mode = Mode.SMART
    reserve_pct: float = 20.0
    next_trip: EvSession | None = None


@dataclass(frozen=True)
class Commitment:
    """An accepted aggregator promise: EV power bounds over a window (W, + charging)."""
    id: str
    start: datetime
    end: datetime
    min_ev_w: float
    max_ev_w: float
    priority: int = 0


@dataclass(frozen=True)
class Setpoint:
    at: datetime
    ev_power_w: float                        # + charging, - discharging
    reason: str                              # why, in words the owner understands
    clamped_by: tuple[str, ...] = ()         # safety rules that changed the request


@dataclass(frozen=True)
class Plan:
    """A schedule over a horizon of equal intervals. Arrays are read-only."""
    start: datetime
    interval_s: int
    ev_w: np.ndarray                         # per interval, + charging
    soc_pct: np.ndarray                      # len(ev_w) + 1: SoC at each interval boundary
    grid_w: np.ndarray                       # per interval, + import
    cost: float                              # currency units over the horizon
    solve_ms: float = 0.0
    breakdown: dict[str, float] = field(default_factory=dict)
    target_shortfall_pct: float = 0.0

    def index_at(self, when: datetime) -> int | None:
        k = int((when - self.start) / timedelta(seconds=self.interval_s))
        return k if 0 <= k < len(self.ev_w) else None
