"""The agent: poll -> state -> replan when due -> decide -> safety clamp -> write.

One instance per home. It owns the device pollers, the plan in force, the owner's live settings
(hems.control.settings) and the aggregator commitments (hems.control.commitments), and
implements hems.control.api.AgentApi, the one contract of the web UI and the aggregator link.
Time comes only from the injected clock, so a test can run a day in seconds by calling `tick()`
with a ManualClock.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol
from zoneinfo import ZoneInfo

from hems.config.model import TariffConfig
from hems.control.api import Listener
from hems.control.arbitration import Decision, Request
from hems.control.commitments import CommitmentBook, flex_view, home_limits
from hems.control.decide import CarLimits, apply_commitments, interim_request, plan_request
from hems.control.devices import ChargerOutput, DeviceSlot
from hems.control.safety import SafetyLimits, clamp
from hems.control.settings import Applied, OwnerSettings, SettingsView, SiteLimits, Weekly
from hems.control.trips import next_departure
from hems.devices.ports import FrequencyResponse, FrequencySource
from hems.domain import Commitment, Envelope, EvSession, Mode, Plan, Preferences, Setpoint, SiteState
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

ReplanFn = Callable[["PlanRequest"], tuple[Plan, Envelope | None] | None]


class PriceInputs(Protocol):
    """The forecaster's price side (hems.control.forecasting.Forecaster)."""
    def set_price_curve(self, start: datetime, interval_s: int, import_price_per_kwh: list[float],
                        export_price_per_kwh: list[float]) -> None: ...
    def set_tariff(self, tariff: TariffConfig) -> None: ...


@dataclass(frozen=True)
class PlanRequest:
    """Everything a replan needs, captured on the loop and handed to the worker thread."""
    now: datetime
    state: SiteState
    preferences: Preferences
    trip: EvSession | None
    commitments: tuple[Commitment, ...]
    site: SiteLimits                                # the live site limits


@dataclass(frozen=True)
class AgentSettings:
    limits: SafetyLimits                            # the installer's (config.toml); the owner's may be lower
    car: CarLimits
    timezone: ZoneInfo
    loop_interval_s: float = 2.0
    stale_after_polls: float = 3.0                  # a reading older than this many polls is stale
    replan_interval_s: float = 900.0
    heartbeat_interval_s: float = 10.0              # rewrite the setpoint at least this often
    write_deadband_w: float = 50.0
    timeout_scale: float = 1.0                      # clock seconds per real second (the demo's speed-up)


class Agent:
    def __init__(self, settings: AgentSettings, slots: list[DeviceSlot], clock: Clock, *,
                 owner: OwnerSettings, store: Any = None, replan: ReplanFn | None = None,
                 charger: ChargerOutput | None = None, prices: PriceInputs | None = None,
                 frequency_source: FrequencySource | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.owner = owner
        self.frequency_source = frequency_source    # the bridge's mains frequency
        self._droop = frequency_source if isinstance(frequency_source, FrequencyResponse) else None
        self._replan_fn = replan
        self._charger = charger
        self._prices = prices
        self._slots = {s.name: s for s in slots}
        self._by_role = {s.role: s for s in slots}
        self._book = CommitmentBook()
        self._state: SiteState | None = None
        self._plan: Plan | None = None
        self._envelope: Envelope | None = None
        self._setpoint: Setpoint | None = None
        self._written_at: datetime | None = None
        self._written_w: float | None = None
        self._last_replan_at: datetime | None = None
        self._replan_wanted = True
        self._replan_task: asyncio.Task | None = None
        self._plan_error: str | None = None
        self.config: Any = None                 # the config it was built from (hems.app)
        self._listeners: list[Listener] = []
        self._stop = asyncio.Event()
        self._write_lock = asyncio.Lock()

    # --- AgentApi: what it knows ----------------------------------------------------------
    @property
    def state(self) -> SiteState | None:
        return self._state

    @property
    def plan(self) -> Plan | None:
        return self._plan

    @property
    def envelope(self) -> Envelope | None:
        return self._envelope

    @property
    def preferences(self) -> Preferences:
        return self.owner.preferences

    @property
    def last_setpoint(self) -> Setpoint | None:
        return self._setpoint

    @property
    def commitments(self) -> tuple[Commitment, ...]:
        return self._book.commitments

    @property
    def plan_error(self) -> str | None:
        return self._plan_error

    def next_trip(self, now: datetime | None = None) -> EvSession | None:
        now = now or self.clock.now()
        return next_departure(now, self.settings.timezone, self.owner.weekly, self.preferences.next_trip)

    def device_status(self) -> dict[str, dict[str, Any]]:
        now = self.clock.now()
        return {s.name: s.status(self._is_fresh(s, now)) for s in self._slots.values()}

    def live_settings(self) -> SettingsView:
        return self.owner.view()

    def safety_limits(self) -> SafetyLimits:
        """The installer's limits with the owner's site limits and reserve: what the clamp applies."""
        site = self.owner.site
        return replace(self.settings.limits, main_fuse_a=site.main_fuse_a, max_import_w=site.max_import_w,
                       max_export_w=site.max_export_w, reserve_pct=self.preferences.reserve_pct)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- AgentApi: the owner's changes ------------------------------------------------------
    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        self.owner.set_preferences(prefs, who)
        await self._emit("preferences", prefs)
        await self._apply_now()

    async def set_weekly(self, weekly: Weekly, who: str) -> None:
        self.owner.set_weekly(weekly, self.clock.now(), who)
        self.request_replan()

    async def set_limits(self, changes: dict[str, float], who: str) -> SiteLimits:
        self.owner.set_site(changes, self.clock.now(), who)
        self._log_setting("site limits", changes, who)
        await self._apply_now()
        return self.owner.site

    async def set_tariff(self, changes: dict[str, float], who: str) -> Applied:
        applied = self.owner.set_tariff(changes, self.clock.now(), who)
        if self._prices is not None:
            self._prices.set_tariff(self.owner.tariff)
        self._log_setting("tariff", changes, who)
        await self._apply_now()
        return applied

    async def set_aggregator(self, changes: dict[str, Any], who: str) -> Applied:
        applied = self.owner.set_aggregator(changes, self.clock.now(), who)
        self._log_setting("aggregator enrolment", changes, who)
        return applied

    # --- AgentApi: the aggregator's requests -----------------------------------------------
    async def offer(self, request: Request) -> Decision:
        now = self.clock.now()
        self._book.expire(now)
        limits = home_limits(self.safety_limits(), self.settings.car, self.preferences, self._state)
        decision = self._book.offer(request, flex_view(self._plan, self._envelope), limits, now)
        for old in decision.superseded:
            await self._emit("event", {"kind": "cancel", "id": old})
        if decision.status != "rejected":
            await self._emit("event", {"kind": "commitment", "id": request.id})
        if decision.status != "rejected" or decision.superseded:
            await self._control_step()  # take effect at once; the plan follows in the background
            self.request_replan()
        return decision

    async def resume(self, commitment: Commitment, regulation: bool) -> None:
        self._book.resume(commitment, regulation, self.clock.now())
        await self._control_step()
        self.request_replan()

    async def signal(self, commitment_id: str, signal: float) -> float:
        self._book.signal(commitment_id, signal, self.clock.now())
        sp = await self._control_step()
        return sp.ev_power_w if sp is not None else 0.0

    async def cancel(self, commitment_id: str) -> bool:
        if not self._book.cancel(commitment_id):
            return False
        await self._emit("event", {"kind": "cancel", "id": commitment_id})
        await self._control_step()
        self.request_replan()
        return True

    async def set_default_control(self, import_limit_w: float | None, export_limit_w: float | None) -> str:
        words = self._book.set_default(import_limit_w, export_limit_w)
        await self._emit("event", {"kind": "default", "message": words})
        await self._control_step()
        self.request_replan()
        return words

    async def set_price_override(self, start: datetime, interval_s: int, price_per_kwh: list[float]) -> None:
        """A price curve from the aggregator: the planner uses it (import and export) where it
        covers the horizon, and replans at once."""
        if self._prices is None:
            raise RuntimeError("this agent has no forecaster to take a price curve")
        self._prices.set_price_curve(start, interval_s, list(price_per_kwh), list(price_per_kwh))
        if self.store is not None:
            self.store.add_event("prices", f"{len(price_per_kwh)} prices from {start.isoformat()}",
                                 who="aggregator")
        await self._apply_now()

    async def _apply_now(self) -> None:
        """After a change the plan depends on: replan, then decide with it."""
        await self.replan_now()
        await self._control_step()

    def _log_setting(self, what: str, changes: dict[str, Any], who: str) -> None:
        log.info("%s changed by %s: %s", what, who, changes)
        if self.store is not None:
            self.store.add_event("settings", f"{who} set {what} {changes}", who=who)

    # --- the loop -------------------------------------------------------------------------
    async def start(self, droop: Any = None) -> None:
        """Connect the devices; with a frequency source, hand it the droop settings it runs
        on its own (the fast frequency response does not wait for this loop)."""
        for s in self._slots.values():
            try:
                await s.device.connect()
            except Exception as exc:  # the poller reports it and retries
                log.warning("%s: could not connect yet: %s", s.name, exc)
        if self.frequency_source is not None:
            try:
                await self.frequency_source.connect()
                if droop is not None and self._droop is not None:
                    await self._droop.set_droop(droop)
            except Exception as exc:
                log.warning("frequency source: %s", exc)

    async def run(self) -> None:
        await self.start()
        while not self._stop.is_set():
            await self.tick()
            await self.clock.sleep(self.settings.loop_interval_s)

    def request_stop(self) -> None:
        """End `run()` after the tick in progress."""
        self._stop.set()

    async def stop(self) -> None:
        self._stop.set()
        if self._replan_task is not None:
            await asyncio.gather(self._replan_task, return_exceptions=True)
        if self._charger is not None:
            try:  # leave the charger idle rather than at the last setpoint
                await asyncio.wait_for(self._charger.idle(), 2.0)
            except Exception as exc:
                log.warning("could not idle the charger on stop: %s", exc)
        for device in [s.device for s in self._slots.values()] + [self.frequency_source]:
            try:
                if device is not None:
                    await device.close()
            except Exception:
                pass
        if self.store is not None:
            self.store.flush()

    async def tick(self, wait_for_plan: bool = False) -> Setpoint | None:
        """One cycle. With wait_for_plan (tests), a due replan finishes before deciding."""
        now = self.clock.now()
        due = [s for s in self._slots.values() if s.next_poll_at is None or now >= s.next_poll_at]
        await asyncio.gather(*(s.poller.poll_once() for s in due))
        for s in due:
            s.next_poll_at = now + timedelta(seconds=s.poll_interval_s)
        now = self.clock.now()          # the polls took time (much of it on a scaled clock)
        previous, self._state = self._state, self._assemble(now)
        if _plugged(previous) != _plugged(self._state):
            self.request_replan()       # the car came or went
        if (previous.stale if previous else ()) != self._state.stale and not \
                (previous is None and self._by_role.keys() <= set(self._state.stale)):
            await self._report_staleness(self._state)
        if self.store is not None:
            self.store.add_measurement(self._state)
        await self._emit("state", self._state)
        if self._replan_due(now):
            self.request_replan()
        if wait_for_plan and self._replan_task is not None:
            await self._replan_task
        return await self._control_step()

    def request_replan(self) -> None:
        self._replan_wanted = True
        if self._replan_fn is None or self._state is None:
            return
        if self._replan_task is None or self._replan_task.done():
            self._replan_task = asyncio.get_running_loop().create_task(self._replan())

    async def replan_now(self) -> None:
        self.request_replan()
        if self._replan_task is not None:
            await self._replan_task

    # --- internals ------------------------------------------------------------------------
    def _is_fresh(self, slot: DeviceSlot, now: datetime) -> bool:
        """Fresh: a reading within N poll periods plus one request timeout. Request timeouts
        run in real seconds, so a clock faster than real time scales them into its seconds."""
        max_age_s = slot.poll_interval_s * self.settings.stale_after_polls \
            + slot.timeout_s * self.settings.timeout_scale
        return bool(slot.poller.is_fresh(now, max_age_s))

    def _assemble(self, now: datetime) -> SiteState:
        readings: dict[str, Any] = {}
        stale = []
        for role in ("meter", "pv", "charger"):
            slot = self._by_role.get(role)
            if slot is None:
                continue
            if self._is_fresh(slot, now):
                readings[role] = slot.poller.latest
            else:
                stale.append(role)
        return SiteState(at=now, meter=readings.get("meter"), pv=readings.get("pv"),
                         charger=readings.get("charger"), stale=tuple(stale))

    async def _report_staleness(self, state: SiteState) -> None:
        if state.stale:
            message = f"no fresh data from {', '.join(state.stale)}: safe state (no discharge)"
            log.warning(message)
        else:
            message = "all devices report fresh data"
            log.info(message)
        if self.store is not None:
            self.store.add_event("devices", message, who="agent")
        await self._emit("event", {"kind": "devices", "stale": list(state.stale), "message": message})

    def _replan_due(self, now: datetime) -> bool:
        if self._replan_fn is None:
            return False
        if self._replan_wanted or self._last_replan_at is None:
            return True
        return (now - self._last_replan_at).total_seconds() >= self.settings.replan_interval_s

    async def _replan(self) -> None:
        while self._replan_wanted and self._state is not None:
            self._replan_wanted = False
            now = self.clock.now()
            request = PlanRequest(now=now, state=self._state, preferences=self.preferences,
                                  trip=self.next_trip(now), commitments=self.commitments,
                                  site=self.owner.site)
            try:
                result = await asyncio.to_thread(self._replan_fn, request)
            except Exception as exc:
                self._last_replan_at = now      # retry at the next interval or event
                self._plan_error = f"planning failed, previous plan stays in force: {exc}"
                log.exception("replan failed; the previous plan stays in force")
                await self._emit("event", {"kind": "plan_error", "message": self._plan_error})
                continue
            self._last_replan_at = now
            if result is None:
                continue
            self._plan, self._envelope = result
            self._plan_error = None
            if self.store is not None:
                self.store.add_plan(self._plan)
            await self._emit("plan", self._plan)

    def _request(self, state: SiteState, now: datetime) -> tuple[float, str]:
        if state.charger is None or not state.charger.plugged:
            return 0.0, "no car plugged in"
        trip = self.next_trip(now)
        mode = self.preferences.mode
        far = now + timedelta(days=7)
        departure, target = (trip.departure, trip.target_soc_pct) if trip else (far, 0.0)
        from_plan = None
        if mode is Mode.SMART and self._plan is not None:
            from_plan = plan_request(self._plan, now)
        tz = self.settings.timezone
        power_w, reason = from_plan or interim_request(state, mode, departure, target,
                                                       self.settings.car, now, tz)
        if mode is not Mode.OFF:
            power_w, reason = apply_commitments(power_w, reason, self._book.bounds(now), now, tz)
        return power_w, reason

    async def _control_step(self) -> Setpoint | None:
        state = self._state
        if state is None:
            return None
        now = self.clock.now()
        limits = self.safety_limits()
        self._book.expire(now)
        if self._book.refresh_default(state, limits, now):
            self.request_replan()
        power_w, reason = self._request(state, now)
        sp = clamp(power_w, state, limits, reason)
        if sp.clamped_by:
            sp = replace(sp, reason=f"{sp.reason} (limited: {', '.join(sp.clamped_by)})")
        self._setpoint = sp
        await self._write(sp, now)
        return sp

    async def _write(self, sp: Setpoint, now: datetime) -> None:
        charger = self._charger
        if charger is None:
            return
        changed = self._written_w is None or abs(sp.ev_power_w - self._written_w) >= self.settings.write_deadband_w \
            or (sp.ev_power_w == 0.0) != (self._written_w == 0.0)
        refresh = self._written_at is None or \
            (now - self._written_at).total_seconds() >= self.settings.heartbeat_interval_s
        if not (changed or refresh):
            return
        async with self._write_lock:
            try:
                await charger.write(sp.ev_power_w, refresh)
            except Exception as exc:
                log.warning("writing %.0f W to %s failed: %s", sp.ev_power_w, charger.name, exc)
                self._written_w = None
                await self._fall_back_to_idle(charger, sp)
                return
        self._written_w, self._written_at = sp.ev_power_w, now
        if changed:
            if self.store is not None:
                self.store.add_setpoint(sp)
            await self._emit("setpoint", sp)

    async def _fall_back_to_idle(self, charger: ChargerOutput, failed: Setpoint) -> None:
        """A refused or failed setpoint must not leave the charger on an older one: ask for 0 W."""
        if failed.ev_power_w == 0.0:
            return
        try:
            await charger.idle()
        except Exception as exc:
            log.warning("%s: could not fall back to 0 W either: %s", charger.name, exc)

    async def _emit(self, topic: str, payload: Any) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(topic, payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener failed on %s", topic)


def _plugged(state: SiteState | None) -> bool | None:
    if state is None or state.charger is None:
        return None
    return state.charger.plugged
