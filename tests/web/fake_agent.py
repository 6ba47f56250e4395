"""A small in-test AgentApi: holds a state and a plan, records preference changes, replans."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.domain import (
    ChargerReading,
    ChargerState,
    Commitment,
    MeterReading,
    Plan,
    Preferences,
    PvReading,
    Setpoint,
    SiteState,
)


@dataclass(frozen=True)
class FakeLimits:
    main_fuse_a: float = 25.0
    max_import_w: float = 17_000.0
    max_export_w: float = 10_000.0
    reserve_pct: float = 20.0


@dataclass(frozen=True)
class FakeSettings:
    limits: FakeLimits = FakeLimits()
    weekly: dict = field(default_factory=lambda: {d: (time(7, 0), 70.0) for d in range(5)})


@dataclass(frozen=True)
class _Site:
    timezone: str = "Europe/Amsterdam"
    main_fuse_a: float = 25.0
    max_import_w: float = 17_000.0
    max_export_w: float = 10_000.0


@dataclass(frozen=True)
class _Tariff:
    kind: str = "fixed"
    currency: str = "EUR"
    import_price_per_kwh: float = 0.30
    export_price_per_kwh: float = 0.08
    import_markup_per_kwh: float = 0.0


@dataclass(frozen=True)
class _Web:
    readonly_lan: bool = False


@dataclass(frozen=True)
class _Ev:
    max_charge_w: float = 11_000.0


@dataclass(frozen=True)
class FakeConfig:
    site: _Site = _Site()
    tariff: _Tariff = _Tariff()
    web: _Web = _Web()
    ev: _Ev = _Ev()
    aggregator: None = None


class FakeAgent:
    """Mirrors hems.control.agent.Agent's public surface: AgentApi plus next_trip, settings, commitments."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._prefs = Preferences()
        self.changes: list[tuple[Preferences, str]] = []
        self.settings = FakeSettings()
        self.replans = 0
        self.plan_error: str | None = None
        self._commitments_list: list[Commitment] = []
        self._listeners: list[Any] = []
        self.devices: dict[str, dict[str, Any]] = {
            "meter": {"role": "meter", "online": True, "last_reading": now, "last_error": None},
            "pv": {"role": "pv", "online": True, "last_reading": now, "last_error": None},
            "charger": {"role": "charger", "online": True, "last_reading": now, "last_error": None},
        }
        self._state: SiteState | None = SiteState(
            at=now,
            meter=MeterReading(at=now, grid_power_w=-1200.0),
            pv=PvReading(at=now, pv_power_w=4200.0),
            charger=ChargerReading(at=now, ev_power_w=2500.0, state=ChargerState.CHARGING, soc_pct=55.0),
        )
        self._setpoint: Setpoint | None = Setpoint(at=now, ev_power_w=2500.0, reason="charging from solar")
        self._plan: Plan | None = None
        self.replan()

    @property
    def state(self) -> SiteState | None:
        return self._state

    @property
    def plan(self) -> Plan | None:
        return self._plan

    @property
    def preferences(self) -> Preferences:
        return self._prefs

    @property
    def last_setpoint(self) -> Setpoint | None:
        return self._setpoint

    @property
    def envelope(self) -> Any:
        return None

    def device_status(self) -> dict[str, dict[str, Any]]:
        return self.devices

    @property
    def commitments(self) -> tuple[Commitment, ...]:
        return tuple(self._commitments_list)

    def next_trip(self, now: datetime | None = None):
        from hems.control.trips import next_departure
        return next_departure(now or self.now, ZoneInfo("Europe/Amsterdam"), self.settings.weekly,
                              self._prefs.next_trip)

    def request_replan(self) -> None:
        self.replan()

    def replan(self) -> None:
        self.replans += 1
        n = 96
        trip = self.next_trip(self.now)
        target = trip.target_soc_pct if trip else 60.0
        soc = np.linspace(55.0, target, n + 1)
        ev = np.full(n, 1000.0 * (target - 55.0) / 10.0)
        hours = np.arange(n) / 4.0
        pv = np.clip(np.sin((hours + 10.0 - 6.0) / 14.0 * np.pi), 0, None) * 5000.0
        price = 0.25 + 0.1 * np.cos((hours + 10.0 - 19.0) / 24.0 * 2 * np.pi)
        plan = Plan(start=self.now, interval_s=900, ev_w=ev, soc_pct=soc, grid_w=ev - 500.0, cost=1.5,
                    breakdown={"import": 2.0})
        plan.breakdown.update(import_price_per_kwh=price.tolist(), export_price_per_kwh=(price * 0.3).tolist(),
                              pv_w=pv.tolist(), load_w=np.full(n, 450.0).tolist(),
                              reasons=["charging from solar" if p > 2000 else "idle: waiting for sun" for p in pv])
        self._plan = plan

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self._prefs = prefs
        self.changes.append((prefs, who))
        self.replan()
        await self._publish("plan", self._plan)

    async def add_commitment(self, commitment: Commitment) -> None:
        self._commitments_list.append(commitment)

    async def cancel_commitment(self, commitment_id: str) -> None:
        self._commitments_list = [c for c in self._commitments_list if c.id != commitment_id]

    async def set_regulation_signal(self, commitment_id: str, signal: float) -> float:
        return 0.0

    def subscribe(self, listener: Any):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def _publish(self, topic: str, payload: Any) -> None:
        for listener in list(self._listeners):
            result = listener(topic, payload)
            if result is not None:
                await result

    async def set_state(self, state: SiteState) -> None:
        self._state = state
        await self._publish("state", state)
