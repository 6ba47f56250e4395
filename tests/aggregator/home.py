"""A small in-test AgentApi: a state, a flat plan with an envelope, the real safety clamp.

It keeps commitments in control's own CommitmentBook (arbitration, regulation signals, the
default control) and applies them like the agent does (hems.control.decide and
hems.control.safety); it records every EV power it would write.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from hems.control.arbitration import Decision, Request
from hems.control.commitments import CommitmentBook, flex_view, home_limits
from hems.control.decide import CarLimits, apply_commitments
from hems.control.safety import SafetyLimits, clamp
from hems.domain import (ChargerReading, ChargerState, Commitment, Envelope, MeterReading, Plan,
                         Preferences, Setpoint, SiteState)

LIMITS = SafetyLimits(phases=3, voltage_v=230, main_fuse_a=25, max_import_w=17000, max_export_w=10000,
                      min_charge_w=4140, max_charge_w=11000, min_discharge_w=4140, max_discharge_w=10000,
                      reserve_pct=20, max_soc_pct=100)
CAR = CarLimits(capacity_wh=60000, min_charge_w=4140, max_charge_w=11000, charge_efficiency=0.9)


class HomeAgent:
    def __init__(self, clock, soc_pct: float = 60.0, down_w: float = 7000.0, up_w: float = 7000.0) -> None:
        self.clock = clock
        self._prefs = Preferences(reserve_pct=20.0)
        self.soc_pct = soc_pct
        self.book = CommitmentBook()
        self.prices: list[tuple[datetime, int, list[float]]] = []
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
    def commitments(self) -> dict[str, Commitment]:
        """By id (the Protocol asks for a tuple; a dict compares more readably in these tests)."""
        return {c.id: c for c in self.book.commitments}

    @property
    def last_setpoint(self):
        return self._setpoint

    def device_status(self) -> dict[str, dict[str, Any]]:
        return {}

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self._prefs = prefs
        await self._emit("preferences", prefs)

    async def offer(self, request: Request) -> Decision:
        now = self.clock.now()
        self.book.expire(now)
        limits = home_limits(replace(LIMITS, reserve_pct=self._prefs.reserve_pct), CAR, self._prefs, self.state)
        decision = self.book.offer(request, flex_view(self._plan, self._envelope), limits, now)
        await self.step()
        return decision

    async def resume(self, commitment: Commitment, regulation: bool) -> None:
        self.book.resume(commitment, regulation, self.clock.now())
        await self.step()

    async def signal(self, commitment_id: str, signal: float) -> float:
        self.book.signal(commitment_id, signal, self.clock.now())
        sp = await self.step()
        return sp.ev_power_w

    async def cancel(self, commitment_id: str) -> bool:
        found = self.book.cancel(commitment_id)
        await self.step()
        return found

    async def set_default_control(self, import_limit_w, export_limit_w) -> str:
        words = self.book.set_default(import_limit_w, export_limit_w)
        await self.step()
        return words

    async def set_price_override(self, start: datetime, interval_s: int, price_per_kwh: list[float]) -> None:
        self.prices.append((start, interval_s, list(price_per_kwh)))

    def subscribe(self, listener):
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # the loop, in small
    async def step(self) -> Setpoint:
        now = self.clock.now()
        self.book.expire(now)
        self.book.refresh_default(self.state, LIMITS, now)
        power, reason = apply_commitments(0.0, "idle: planned", self.book.bounds(now), now)
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
