"""A small in-test AgentApi: a state, a flat plan with an envelope, the real safety clamp.

It applies commitments and regulation signals like the agent does (hems.control.decide and
hems.control.safety) and records every EV power it would write.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from hems.control.decide import CarLimits, apply_commitments
from hems.control.safety import SafetyLimits, clamp
from hems.domain import (ChargerReading, ChargerState, Commitment, MeterReading, Plan, Preferences,
                         Setpoint, SiteState)

LIMITS = SafetyLimits(phases=3, voltage_v=230, main_fuse_a=25, max_import_w=17000, max_export_w=10000,
                      min_charge_w=4140, max_charge_w=11000, min_discharge_w=4140, max_discharge_w=10000,
                      reserve_pct=20, max_soc_pct=100)
CAR = CarLimits(capacity_wh=60000, min_charge_w=4140, max_charge_w=11000, charge_efficiency=0.9)


@dataclass
class Envelope:
    ev_min_w: np.ndarray
    ev_max_w: np.ndarray
    up_w: np.ndarray
    down_w: np.ndarray
    soc_min_pct: np.ndarray
    soc_max_pct: np.ndarray
    interval_s: int
    start: datetime | None = None


@dataclass
class Settings:
    limits: SafetyLimits = LIMITS
    car: CarLimits = CAR


class HomeAgent:
    def __init__(self, clock, soc_pct: float = 60.0, down_w: float = 7000.0, up_w: float = 7000.0) -> None:
        self.clock = clock
        self.settings = Settings()
        self._prefs = Preferences(reserve_pct=20.0)
        self.soc_pct = soc_pct
        self.commitments: dict[str, Commitment] = {}
        self.signals: dict[str, float] = {}
        self.written: list[tuple[datetime, float]] = []
        self._listeners = []
        now = clock.now()
        start = now.replace(minute=0, second=0, microsecond=0)
        n = 48
        self._plan = Plan(start=start, interval_s=900, ev_w=np.zeros(n), soc_pct=np.full(n + 1, soc_pct),
                          grid_w=np.full(n, 500.0), cost=0.0)
        self._envelope = Envelope(ev_min_w=np.full(n, -down_w), ev_max_w=np.full(n, up_w),
                                  up_w=np.full(n, up_w), down_w=np.full(n, down_w),
                                  soc_min_pct=np.full(n + 1, 20.0), soc_max_pct=np.full(n + 1, 100.0),
                                  interval_s=900, start=start)
        self._setpoint: Setpoint | None = None
        self.ev_w = 0.0

    # AgentApi
    @property
    def state(self) -> SiteState:
        now = self.clock.now()
        return SiteState(at=now, meter=MeterReading(at=now, grid_power_w=500.0 + self.ev_w),
                         pv=None, charger=ChargerReading(at=now, ev_power_w=self.ev_w,
                                                         state=ChargerState.CONNECTED, soc_pct=self.soc_pct))

    @property
    def plan(self):
        return self._plan

    @property
    def envelope(self):
        return self._envelope

    @property
    def preferences(self) -> Preferences:
        return self._prefs

    @property
    def last_setpoint(self):
        return self._setpoint

    def device_status(self) -> dict[str, dict[str, Any]]:
        return {}

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self._prefs = prefs
        await self._emit("preferences", prefs)

    async def add_commitment(self, c: Commitment) -> None:
        self.commitments[c.id] = c
        await self.step()

    async def cancel_commitment(self, commitment_id: str) -> None:
        self.commitments.pop(commitment_id, None)
        self.signals.pop(commitment_id, None)
        await self.step()

    async def set_regulation_signal(self, commitment_id: str, signal: float) -> float:
        if commitment_id not in self.commitments:
            raise KeyError(commitment_id)
        self.signals[commitment_id] = signal
        sp = await self.step()
        return sp.ev_power_w

    def subscribe(self, listener):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # the loop, in small
    async def step(self) -> Setpoint:
        now = self.clock.now()
        bounds = []
        for c in self.commitments.values():
            if c.id in self.signals:
                mid, half = (c.min_ev_w + c.max_ev_w) / 2, (c.max_ev_w - c.min_ev_w) / 2
                c = replace(c, min_ev_w=mid + self.signals[c.id] * half, max_ev_w=mid + self.signals[c.id] * half)
            bounds.append(c)
        power, reason = apply_commitments(0.0, "idle: planned", bounds, now)
        sp = clamp(power, self.state, replace(LIMITS, reserve_pct=self._prefs.reserve_pct), reason)
        self._setpoint = sp
        self.ev_w = sp.ev_power_w
        self.written.append((now, sp.ev_power_w))
        return sp

    async def tick(self) -> None:
        """Publish the state to listeners (as the agent does every loop)."""
        await self.step()
        await self._emit("state", self.state)

    async def _emit(self, topic, payload) -> None:
        for listener in list(self._listeners):
            r = listener(topic, payload)
            if inspect.isawaitable(r):
                await r
