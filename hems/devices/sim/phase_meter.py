"""The physics of a meter at the grid connection: power per phase and energy counters.

Shared by the meter simulators (SunSpec 20x, Eastron); each renders it into its own registers.
Power + = import from the grid. `advance(now)` integrates import and export per phase.
"""
from __future__ import annotations

from datetime import datetime


class PhaseMeter:
    def __init__(self, phases: int = 3, voltage_v: float = 230.0, frequency_hz: float = 50.0) -> None:
        if phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, got {phases}")
        self.phases = phases
        self.voltage_v = voltage_v
        self.frequency_hz = frequency_hz
        self.phase_power_w: tuple[float, ...] = (0.0,) * phases
        self.import_wh = [0.0] * phases          # per phase
        self.export_wh = [0.0] * phases
        self.total_import_wh = 0.0               # from the sum of the phases (netting meter)
        self.total_export_wh = 0.0
        self._at: datetime | None = None

    @property
    def power_w(self) -> float:
        return sum(self.phase_power_w)

    @property
    def phase_current_a(self) -> tuple[float, ...]:
        return tuple(abs(w) / self.voltage_v for w in self.phase_power_w)

    def set_power(self, phase_power_w: float | tuple[float, ...] | list[float], now: datetime) -> None:
        """Grid power per phase (W, + import); a single number is split evenly over the phases."""
        if isinstance(phase_power_w, (int, float)):
            phase_power_w = (float(phase_power_w) / self.phases,) * self.phases
        if len(phase_power_w) != self.phases:
            raise ValueError(f"meter has {self.phases} phases, got {len(phase_power_w)} values")
        self.advance(now)
        self.phase_power_w = tuple(float(w) for w in phase_power_w)

    def accumulate(self, phase_energy_wh: tuple[float, ...], until: datetime) -> None:
        """Count energy that flowed up to `until` (Wh per phase, + import) when the power was not
        constant over the interval (a ramping charger); replaces advance() for that interval."""
        for i, wh in enumerate(phase_energy_wh):
            if wh > 0:
                self.import_wh[i] += wh
            else:
                self.export_wh[i] -= wh
        total_wh = sum(phase_energy_wh)
        if total_wh > 0:
            self.total_import_wh += total_wh
        else:
            self.total_export_wh -= total_wh
        if self._at is None or until > self._at:
            self._at = until

    def advance(self, now: datetime) -> None:
        if self._at is not None and now > self._at:
            hours = (now - self._at).total_seconds() / 3600
            for i, w in enumerate(self.phase_power_w):
                if w > 0:
                    self.import_wh[i] += w * hours
                else:
                    self.export_wh[i] -= w * hours
            total_w = self.power_w
            if total_w > 0:
                self.total_import_wh += total_w * hours
            else:
                self.total_export_wh -= total_w * hours
        if self._at is None or now > self._at:
            self._at = now


class MeterFront:
    """What every meter simulator offers around its `physics` (a PhaseMeter): the grid power
    to set and read, and time to advance. Mixed in before RegisterDevice."""

    physics: PhaseMeter

    @property
    def phases(self) -> int:
        return self.physics.phases

    @property
    def power_w(self) -> float:
        return self.physics.power_w

    def set_power(self, phase_power_w: float | tuple[float, ...] | list[float]) -> None:
        """Grid power per phase (W, + import); a single number is split evenly over the phases."""
        self.physics.set_power(phase_power_w, self.clock.now())   # type: ignore[attr-defined]

    def advance(self, now: datetime) -> None:
        self.physics.advance(now)
