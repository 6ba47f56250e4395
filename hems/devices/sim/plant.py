"""The physics behind a simulated charger: the charge point and the car plugged into it.

Signs follow hems: + = charging the car, - = discharging. The protocol simulators (SunSpec,
Quasar, EVtec) translate their registers into `command(power_w)` and read `actual_w`, `soc_pct`
and `plugged` back. `advance(now)` integrates from the last call: the power ramps toward the
allowed setpoint, the battery takes what flows in times the efficiency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CarSpec:
    capacity_wh: float = 60_000.0
    max_charge_w: float = 11_000.0            # the car's own AC limit
    max_discharge_w: float = 10_000.0
    charge_efficiency: float = 0.90           # AC in -> battery
    discharge_efficiency: float = 0.90        # battery -> AC out
    soc_min_pct: float = 5.0                  # the car's BMS stops discharging here
    soc_max_pct: float = 100.0
    consumption_wh_per_km: float = 170.0

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0:
            raise ValueError(f"CarSpec.capacity_wh: {self.capacity_wh} must be > 0")
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"CarSpec.{name}: {getattr(self, name)} must be in (0, 1]")
        if not 0 <= self.soc_min_pct < self.soc_max_pct <= 100:
            raise ValueError(f"CarSpec: need 0 <= soc_min_pct ({self.soc_min_pct}) < soc_max_pct "
                             f"({self.soc_max_pct}) <= 100")


@dataclass(frozen=True)
class ChargerSpec:
    phases: int = 1
    voltage_v: float = 230.0
    min_current_a: float = 6.0                # IEC 61851: 0 or at least 6 A
    max_current_a: float = 32.0
    ramp_s: float = 1.5                       # time from 0 to full power
    reports_soc: bool = True                  # False: an AC charger that never knows the car's SoC

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError(f"ChargerSpec.phases: {self.phases} must be 1 or 3")
        if not 0 <= self.min_current_a <= self.max_current_a:
            raise ValueError(f"ChargerSpec: need 0 <= min_current_a ({self.min_current_a}) <= "
                             f"max_current_a ({self.max_current_a})")
        if self.voltage_v <= 0 or self.ramp_s < 0:
            raise ValueError("ChargerSpec: voltage_v must be > 0 and ramp_s >= 0")

    @property
    def min_power_w(self) -> float:
        return self.min_current_a * self.phases * self.voltage_v

    @property
    def max_power_w(self) -> float:
        return self.max_current_a * self.phases * self.voltage_v


_STEP_S = 0.25   # integration step while ramping


class ChargePoint:
    """Charger + car physics. Not thread-safe; one event loop drives it."""

    def __init__(self, spec: ChargerSpec | None = None, car: CarSpec | None = None,
                 soc_pct: float = 50.0, plugged: bool = True) -> None:
        self.spec = spec or ChargerSpec()
        self.car = car or CarSpec()
        self.soc_pct = float(soc_pct)
        self.plugged = plugged
        self.fault: str | None = None
        self.requested_w = 0.0                # what the protocol layer asks (hems sign)
        self.actual_w = 0.0                   # AC power flowing now
        self.charged_wh = 0.0                 # AC energy into the car, total
        self.discharged_wh = 0.0              # AC energy out of the car, total
        self._at: datetime | None = None

    # --- inputs ---------------------------------------------------------------------
    def command(self, power_w: float) -> None:
        self.requested_w = float(power_w)

    def plug(self, soc_pct: float | None = None) -> None:
        self.plugged = True
        if soc_pct is not None:
            self.soc_pct = float(soc_pct)

    def unplug(self) -> None:
        self.plugged = False
        self.actual_w = 0.0

    def drive(self, distance_km: float) -> float:
        """Use energy away from home; returns the Wh used (the battery stops at 0 %)."""
        used_wh = min(distance_km * self.car.consumption_wh_per_km, self.soc_pct / 100 * self.car.capacity_wh)
        self.soc_pct -= used_wh / self.car.capacity_wh * 100
        return used_wh

    # --- derived --------------------------------------------------------------------
    @property
    def allowed_w(self) -> float:
        """The setpoint after the charger's and the car's limits (0 below the minimum current)."""
        if not self.plugged or self.fault:
            return 0.0
        w = self.requested_w
        if abs(w) < self.spec.min_power_w:
            return 0.0
        if w > 0:
            if self.soc_pct >= self.car.soc_max_pct:
                return 0.0
            return min(w, self.spec.max_power_w, self.car.max_charge_w)
        if self.soc_pct <= self.car.soc_min_pct:
            return 0.0
        return max(w, -self.spec.max_power_w, -self.car.max_discharge_w)

    @property
    def current_a(self) -> float:
        return abs(self.actual_w) / (self.spec.voltage_v * self.spec.phases)

    @property
    def reported_soc_pct(self) -> float | None:
        """The SoC the charger can tell: None without a car or when the charger never knows it."""
        return self.soc_pct if self.plugged and self.spec.reports_soc else None

    @property
    def energy_wh(self) -> float:
        return self.soc_pct / 100 * self.car.capacity_wh

    # --- physics --------------------------------------------------------------------
    def advance(self, now: datetime) -> None:
        if self._at is None or now <= self._at:
            self._at = now if self._at is None or now > self._at else self._at
            return
        remaining_s = (now - self._at).total_seconds()
        self._at = now
        rate_w_per_s = self.spec.max_power_w / max(self.spec.ramp_s, 1e-3)
        while remaining_s > 1e-9:
            target = self.allowed_w
            if abs(target - self.actual_w) < 1e-6:
                self._flow(target, remaining_s)       # steady: one segment
                break
            dt = min(_STEP_S, remaining_s)
            step = max(-rate_w_per_s * dt, min(rate_w_per_s * dt, target - self.actual_w))
            start_w = self.actual_w
            self.actual_w += step
            self._flow((start_w + self.actual_w) / 2, dt)
            remaining_s -= dt
        if not self.plugged:
            self.actual_w = 0.0

    def _flow(self, power_w: float, duration_s: float) -> None:
        """Move energy at power_w for duration_s, stopping at the SoC limits."""
        if power_w == 0 or duration_s <= 0:
            return
        cap = self.car.capacity_wh
        if power_w > 0:
            room_wh = max(0.0, (self.car.soc_max_pct - self.soc_pct) / 100 * cap)
            ac_wh = min(power_w * duration_s / 3600, room_wh / self.car.charge_efficiency)
            self.soc_pct += ac_wh * self.car.charge_efficiency / cap * 100
            self.charged_wh += ac_wh
        else:
            room_wh = max(0.0, (self.soc_pct - self.car.soc_min_pct) / 100 * cap)
            ac_wh = min(-power_w * duration_s / 3600, room_wh * self.car.discharge_efficiency)
            self.soc_pct -= ac_wh / self.car.discharge_efficiency / cap * 100
            self.discharged_wh += ac_wh
        if (power_w > 0 and self.soc_pct >= self.car.soc_max_pct - 1e-9) or (
                power_w < 0 and self.soc_pct <= self.car.soc_min_pct + 1e-9):
            self.actual_w = 0.0
