"""A small in-test AgentApi: holds a state and a plan, records preference changes, replans.

It implements the same Protocol as the agent (hems.control.api.AgentApi); its live settings
are held by the real settings owner (hems.control.settings), so the installer's limits hold.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from hems.control.arbitration import Decision, HomeLimits, Request
from hems.control.commitments import CommitmentBook, flex_view
from hems.control.settings import Applied, OwnerSettings, SettingsView, SiteLimits, Weekly
from hems.domain import (
    ChargerReading,
    ChargerState,
    Commitment,
    EvSession,
    MeterReading,
    Plan,
    Preferences,
    PvReading,
    Setpoint,
    SiteState,
)


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
    """AgentApi over a fixed state and a made-up plan; `store` keeps the owner's settings."""

    def __init__(self, now: datetime, store: Any = None) -> None:
        self.now = now
        self.owner = OwnerSettings(FakeConfig(), store, weekly={d: (time(7, 0), 70.0) for d in range(5)},
                                   preferences=Preferences())
        self.changes: list[tuple[Preferences, str]] = []
        self.replans = 0
        self.plan_error: str | None = None
        self.book = CommitmentBook()          # control's own rules for what was promised
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
        return self.owner.preferences

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
        return self.book.commitments

    def next_trip(self, now: datetime | None = None) -> EvSession | None:
        from hems.control.trips import next_departure
        return next_departure(now or self.now, ZoneInfo("Europe/Amsterdam"), self.owner.weekly,
                              self.preferences.next_trip)

    def live_settings(self) -> SettingsView:
        return self.owner.view()

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
                    breakdown={"import": 2.0}, import_price_per_kwh=price, export_price_per_kwh=price * 0.3,
                    pv_w=pv, load_w=np.full(n, 450.0),
                    reasons=tuple("charging from solar" if p > 2000 else "idle: waiting for sun" for p in pv))
        self._plan = plan

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self.owner.set_preferences(prefs, who)
        self.changes.append((prefs, who))
        self.replan()
        await self._publish("plan", self._plan)

    async def set_weekly(self, weekly: Weekly, who: str) -> None:
        self.owner.set_weekly(weekly, self.now, who)
        self.replan()

    async def set_limits(self, changes: dict[str, float], who: str) -> SiteLimits:
        self.owner.set_site(changes, self.now, who)
        self.replan()
        return self.owner.site

    async def set_tariff(self, changes: dict[str, float], who: str) -> Applied:
        applied = self.owner.set_tariff(changes, self.now, who)
        self.replan()
        return applied

    async def set_aggregator(self, changes: dict[str, Any], who: str) -> Applied:
        return self.owner.set_aggregator(changes, self.now, who)

    async def offer(self, request: Request) -> Decision:
        limits = HomeLimits(max_charge_w=11000.0, max_discharge_w=10000.0, min_charge_w=4140.0,
                            reserve_pct=self.preferences.reserve_pct, soc_pct=55.0, plugged=True)
        return self.book.offer(request, flex_view(self._plan, self.envelope), limits, self.now)

    async def resume(self, commitment: Commitment, regulation: bool) -> None:
        self.book.resume(commitment, regulation, self.now)

    async def signal(self, commitment_id: str, signal: float) -> float:
        self.book.signal(commitment_id, signal, self.now)
        return 0.0

    async def cancel(self, commitment_id: str) -> bool:
        return self.book.cancel(commitment_id)

    async def set_default_control(self, import_limit_w: float | None, export_limit_w: float | None) -> str:
        return self.book.set_default(import_limit_w, export_limit_w)

    async def set_price_override(self, start: datetime, interval_s: int, price_per_kwh: list[float]) -> None:
        self.replan()

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
