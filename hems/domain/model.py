"""Frozen dataclasses for what hems measures, decides and promises.

All powers in W, energies in Wh, state of charge in %, times as aware UTC datetimes.
Signs follow the package docstring: grid + import, EV + charging, PV + generation.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

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
    """A trip: leave at `departure` with `target_soc_pct`, or with `energy_wh` added when the
    charge level is unknown (the owner or the car said how much energy the trip needs)."""
    departure: datetime
    target_soc_pct: float
    energy_wh: float | None = None


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
    breakdown: dict[str, float] = field(default_factory=dict)   # cost terms (import, export, ...)
    target_shortfall_pct: float = 0.0
    reasons: tuple[str, ...] = ()            # per interval: why, in the owner's words
    import_price_per_kwh: np.ndarray | None = None   # per interval, what the plan assumed
    export_price_per_kwh: np.ndarray | None = None
    pv_w: np.ndarray | None = None           # per interval, forecast
    load_w: np.ndarray | None = None         # per interval, forecast
    price_source: tuple[str, ...] = ()       # per interval: which source the price came from

    def series(self) -> dict[str, list]:
        """The per-interval inputs and reasons the plan carries, by name (those it has)."""
        out: dict[str, list] = {}
        for name in ("import_price_per_kwh", "export_price_per_kwh", "pv_w", "load_w"):
            value = getattr(self, name)
            if value is not None:
                out[name] = [float(x) for x in value]
        if self.reasons:
            out["reasons"] = list(self.reasons)
        if self.price_source:
            out["price_source"] = list(self.price_source)
        return out

    def index_at(self, when: datetime) -> int | None:
        k = int((when - self.start) / timedelta(seconds=self.interval_s))
        return k if 0 <= k < len(self.ev_w) else None


@dataclass(frozen=True)
class Envelope:
    """How far the EV power of each plan interval could move while the owner's targets and
    reserve stay reachable (W, + charging), and the feasible SoC corridor (%). Made by the
    planner with each plan; read by arbitration and published to the aggregator."""
    up_w: np.ndarray          # (n) how much more charging (W) interval t could take
    down_w: np.ndarray        # (n) how much less (W), down into discharging if allowed
    ev_min_w: np.ndarray      # (n) plan - down_w: lowest feasible EV power
    ev_max_w: np.ndarray      # (n) plan + up_w: highest feasible EV power
    soc_min_pct: np.ndarray   # (n + 1) lowest SoC from which every target is still reachable
    soc_max_pct: np.ndarray   # (n + 1) highest SoC reachable from the start
    interval_s: int
    start: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        r = lambda a, d=1: [round(float(x), d) for x in a]  # noqa: E731
        return {"start": self.start.isoformat() if self.start else None,
                "interval_s": self.interval_s, "up_w": r(self.up_w), "down_w": r(self.down_w),
                "ev_min_w": r(self.ev_min_w), "ev_max_w": r(self.ev_max_w),
                "soc_min_pct": r(self.soc_min_pct, 3), "soc_max_pct": r(self.soc_max_pct, 3)}
