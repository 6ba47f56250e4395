"""A small in-test AgentApi: holds a state and a plan, records preference changes, replans."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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


class FakeAgent:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self._prefs = Preferences()
        self.changes: list[tuple[Preferences, str]] = []
        self.commitments: list[Commitment] = []
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

    def replan(self) -> None:
        n = 96
        target = self._prefs.next_trip.target_soc_pct if self._prefs.next_trip else 60.0
        soc = np.linspace(55.0, target, n + 1)
        ev = np.full(n, 1000.0 * (target - 55.0) / 10.0)
        self._plan = Plan(start=self.now, interval_s=900, ev_w=ev, soc_pct=soc, grid_w=ev - 500.0, cost=1.5)

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self._prefs = prefs
        self.changes.append((prefs, who))
        self.replan()
        await self._publish("plan", self._plan)

    async def add_commitment(self, commitment: Commitment) -> None:
        self.commitments.append(commitment)

    async def cancel_commitment(self, commitment_id: str) -> None:
        self.commitments = [c for c in self.commitments if c.id != commitment_id]

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
