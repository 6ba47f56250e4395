"""The agent: poll -> state -> replan when due -> decide -> safety clamp -> write.

One instance per home. It owns the device pollers, the plan in force, the owner's preferences
and the accepted aggregator commitments, and implements hems.control.api.AgentApi for the web
UI and the aggregator link. Time comes only from the injected clock, so a test can run a day
in seconds by calling `tick()` with a ManualClock.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo

from hems.control.api import Listener
from hems.control.decide import CarLimits, apply_commitments, interim_request, plan_request
from hems.control.polling import PollScheduler, PollSlot
from hems.control.safety import SafetyLimits, clamp
from hems.control.trips import next_departure
from hems.domain import Commitment, EvSession, Mode, Plan, Preferences, Setpoint, SiteState
from hems.domain.clock import Clock, StepDetector

log = logging.getLogger(__name__)

ReplanFn = Callable[["PlanRequest"], tuple[Plan, Any] | None]


@dataclass(frozen=True)
class PlanRequest:
    """Everything a replan needs, captured on the loop and handed to the worker thread."""
    now: datetime
    state: SiteState
    preferences: Preferences
    trip: EvSession | None
    commitments: tuple[Commitment, ...]


@dataclass(frozen=True)
class AgentSettings:
    limits: SafetyLimits
    car: CarLimits
    timezone: ZoneInfo
    weekly: dict[int, tuple[time, float]]           # weekday -> (local departure, target %)
    loop_interval_s: float = 2.0
    stale_after_polls: float = 3.0                  # a reading older than this many polls is stale
    replan_interval_s: float = 900.0
    heartbeat_interval_s: float = 10.0              # rewrite the setpoint at least this often
    write_deadband_w: float = 50.0
    default_preferences: Preferences = field(default_factory=Preferences)


@dataclass
class DeviceSlot:
    name: str
    role: str                                       # meter | pv | charger
    poller: Any                                     # hems.devices.poller.DevicePoller
    poll_interval_s: float
    timeout_s: float = 1.0


class Agent:
    def __init__(self, settings: AgentSettings, slots: list[DeviceSlot], clock: Clock,
                 store: Any = None, replan: ReplanFn | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self._replan_fn = replan
        self._slots = {s.name: s for s in slots}
        self._by_role = {s.role: s for s in slots}
        self._prefs = self._load_preferences()
        self._commitments: dict[str, Commitment] = {}
        self._regulation: dict[str, float] = {}    # commitment id -> last signal in [-1, 1]
        self._state: SiteState | None = None
        self._plan: Plan | None = None
        self._envelope: Any = None
        self._setpoint: Setpoint | None = None
        self._written_at: float | None = None       # monotonic seconds
        self._written_w: float | None = None
        self._write_error: str | None = None        # logged once, until a write works again
        self._write_failed_at = 0.0                 # monotonic: failed writes back off
        self._last_replan_at: float | None = None   # monotonic seconds
        # a tick waits for its polls at most one request timeout and half a loop (real seconds;
        # at least 0.1 s, so a fast simulated clock still sees healthy polls land in their tick)
        wait_s = max(0.1, settings.loop_interval_s / 2.0 / float(getattr(clock, "speedup", 1.0)))
        self._polls = PollScheduler([PollSlot(s.name, s.poller, s.poll_interval_s, min(s.timeout_s, wait_s))
                                     for s in slots], clock)
        self._clock_steps = StepDetector(clock)
        self._replan_wanted = True
        self._replan_task: asyncio.Task | None = None
        self.plan_error: str | None = None
        self.price_sink: Callable[..., None] | None = None     # forecaster.set_price_curve
        self.frequency_source: Any = None       # the bridge's mains frequency (FrequencySource)
        self.config: Any = None                 # the config it was built from (hems.app)
        self._listeners: list[Listener] = []
        self._stop = asyncio.Event()
        self._write_lock = asyncio.Lock()

    # --- AgentApi -------------------------------------------------------------------------
    @property
    def state(self) -> SiteState | None:
        return self._state

    @property
    def plan(self) -> Plan | None:
        return self._plan

    @property
    def envelope(self) -> Any:
        return self._envelope

    @property
    def preferences(self) -> Preferences:
        return self._prefs

    @property
    def last_setpoint(self) -> Setpoint | None:
        return self._setpoint

    @property
    def commitments(self) -> tuple[Commitment, ...]:
        return tuple(self._commitments.values())

    def next_trip(self, now: datetime | None = None) -> EvSession | None:
        now = now or self.clock.now()
        return next_departure(now, self.settings.timezone, self.settings.weekly, self._prefs.next_trip)

    def device_status(self) -> dict[str, dict[str, Any]]:
        now = self.clock.now()
        out = {}
        for s in self._slots.values():
            status = dict(s.poller.status())
            status.update(role=s.role, fresh=self._is_fresh(s, now))
            reading = s.poller.latest
            status["reading"] = _public(reading) if reading is not None else None
            out[s.name] = status
        return out

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        old, self._prefs = self._prefs, prefs
        log.info("preferences changed by %s: %s -> %s", who, old, prefs)
        if self.store is not None:
            try:    # a full disk must not keep the owner's wish from taking effect
                self.store.set_preferences(_prefs_to_json(prefs), who=who)
            except Exception as exc:
                log.error("preferences apply but could not be saved: %s", exc)
            self.store.add_event("preferences", f"{who} set {_prefs_to_json(prefs)}", who=who)
        await self._emit("preferences", prefs)
        await self.replan_now()
        await self._control_step()

    async def add_commitment(self, commitment: Commitment) -> None:
        known = commitment.id in self._commitments
        self._commitments[commitment.id] = commitment
        (log.debug if known else log.info)("commitment %s accepted: %s..%s W %s..%s", commitment.id, commitment.min_ev_w,
                 commitment.max_ev_w, commitment.start, commitment.end)
        await self._emit("event", {"kind": "commitment", "id": commitment.id})
        await self._control_step()      # take effect at once; the plan follows in the background
        self.request_replan()

    async def cancel_commitment(self, commitment_id: str) -> None:
        if self._commitments.pop(commitment_id, None) is not None:
            self._regulation.pop(commitment_id, None)
            await self._emit("event", {"kind": "cancel", "id": commitment_id})
            await self._control_step()
            self.request_replan()

    async def set_regulation_signal(self, commitment_id: str, signal: float) -> float:
        c = self._commitments.get(commitment_id)
        if c is None:
            raise KeyError(f"no accepted commitment {commitment_id!r}")
        self._regulation[commitment_id] = max(-1.0, min(1.0, float(signal)))
        sp = await self._control_step()
        return sp.ev_power_w if sp is not None else 0.0

    async def set_price_override(self, start: datetime, interval_s: int, price_per_kwh: list[float]) -> None:
        """A price curve from the aggregator: the planner uses it (import and export) where it
        covers the horizon, and replans at once."""
        if self.price_sink is None:
            raise RuntimeError("this agent has no forecaster to take a price curve")
        self.price_sink(start, interval_s, list(price_per_kwh), list(price_per_kwh))
        if self.store is not None:
            self.store.add_event("prices", f"{len(price_per_kwh)} prices from {start.isoformat()}",
                                 who="aggregator")
        await self.replan_now()
        await self._control_step()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- the loop -------------------------------------------------------------------------
    async def start(self, droop: Any = None) -> None:
        """Connect the devices; with a frequency source, hand it the droop settings it runs
        on its own (the fast frequency response does not wait for this loop)."""
        for s in self._slots.values():
            try:
                await s.poller.device.connect()
            except Exception as exc:  # the poller reports it and retries
                log.warning("%s: could not connect yet: %s", s.name, exc)
        if self.frequency_source is not None:
            try:
                await self.frequency_source.connect()
                if droop is not None:
                    await self.frequency_source.set_droop(droop)
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
        await self._polls.close()
        if self._replan_task is not None:
            await asyncio.gather(self._replan_task, return_exceptions=True)
        charger = self._by_role.get("charger")
        if charger is not None:
            try:  # leave the charger idle rather than at the last setpoint
                await asyncio.wait_for(charger.poller.device.write_power(0.0), 2.0)
            except Exception as exc:
                log.warning("could not idle the charger on stop: %s", exc)
        for device in [s.poller.device for s in self._slots.values()] + [self.frequency_source]:
            try:
                if device is not None:
                    await device.close()
            except Exception:
                pass
        if self.store is not None:
            self.store.flush()

    async def tick(self, wait_for_plan: bool = False) -> Setpoint | None:
        """One cycle. With wait_for_plan (tests), a due replan finishes before deciding."""
        await self._polls.poll_due()    # each device on its own: a slow one holds up nobody
        if self._clock_steps.stepped():
            self.request_replan()       # the plan's intervals are wall-clock time
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
        speedup = float(getattr(self.clock, "speedup", 1.0))
        max_age_s = slot.poll_interval_s * self.settings.stale_after_polls + slot.timeout_s * speedup
        return bool(slot.poller.is_fresh(max_age_s))

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
        return self.clock.monotonic() - self._last_replan_at >= self.settings.replan_interval_s

    async def _replan(self) -> None:
        while self._replan_wanted and self._state is not None:
            self._replan_wanted = False
            now = self.clock.now()
            request = PlanRequest(now=now, state=self._state, preferences=self._prefs,
                                  trip=self.next_trip(now), commitments=self.commitments)
            try:
                result = await asyncio.to_thread(self._replan_fn, request)
            except Exception as exc:
                self._last_replan_at = self.clock.monotonic()   # retry at the next interval or event
                self.plan_error = f"planning failed, previous plan stays in force: {exc}"
                log.exception("replan failed; the previous plan stays in force")
                await self._emit("event", {"kind": "plan_error", "message": self.plan_error})
                continue
            self._last_replan_at = self.clock.monotonic()
            if result is None:
                continue
            self._plan, self._envelope = result
            self.plan_error = None
            if self.store is not None and hasattr(self.store, "add_plan"):
                self.store.add_plan(self._plan)
            await self._emit("plan", self._plan)

    def _request(self, state: SiteState, now: datetime) -> tuple[float, str]:
        if state.charger is None or not state.charger.plugged:
            return 0.0, "no car plugged in"
        trip = self.next_trip(now)
        mode = self._prefs.mode
        far = now + timedelta(days=7)
        departure, target = (trip.departure, trip.target_soc_pct) if trip else (far, 0.0)
        from_plan = None
        if mode is Mode.SMART and self._plan is not None:
            from_plan = plan_request(self._plan, now)
        tz = self.settings.timezone
        power_w, reason = from_plan or interim_request(state, mode, departure, target,
                                                       self.settings.car, now, tz)
        if mode is not Mode.OFF:
            power_w, reason = apply_commitments(power_w, reason, self._active_bounds(now), now, tz)
        return power_w, reason

    def _active_bounds(self, now: datetime) -> list[Commitment]:
        """Commitments as bounds; a regulation commitment follows its latest signal in its band."""
        out = []
        for c in self._commitments.values():
            signal = self._regulation.get(c.id)
            if signal is None:
                out.append(c)
                continue
            mid_w = (c.min_ev_w + c.max_ev_w) / 2.0
            half_w = (c.max_ev_w - c.min_ev_w) / 2.0
            target_w = mid_w + signal * half_w
            out.append(replace(c, min_ev_w=target_w, max_ev_w=target_w))
        return out

    async def _control_step(self) -> Setpoint | None:
        state = self._state
        if state is None:
            return None
        now = self.clock.now()
        self._commitments = {k: c for k, c in self._commitments.items() if c.end > now}
        power_w, reason = self._request(state, now)
        limits = replace(self.settings.limits, reserve_pct=self._prefs.reserve_pct)
        sp = clamp(power_w, state, limits, reason)
        if sp.clamped_by:
            sp = replace(sp, reason=f"{sp.reason} (limited: {', '.join(sp.clamped_by)})")
        self._setpoint = sp
        await self._write(sp, now)
        return sp

    async def _write(self, sp: Setpoint, now: datetime) -> None:
        slot = self._by_role.get("charger")
        if slot is None:
            return
        changed = self._written_w is None or abs(sp.ev_power_w - self._written_w) >= self.settings.write_deadband_w \
            or (sp.ev_power_w == 0.0) != (self._written_w == 0.0)
        refresh = self._written_at is None or \
            self.clock.monotonic() - self._written_at >= self.settings.heartbeat_interval_s
        if not (changed or refresh):
            return
        if self._write_error is not None and \
                self.clock.monotonic() - self._write_failed_at < self.settings.heartbeat_interval_s / 2:
            return      # an unreachable charger would hold every loop for two request timeouts
        async with self._write_lock:
            try:    # bounded: a write is a read and a write request at most
                await asyncio.wait_for(slot.poller.device.write_power(sp.ev_power_w), 2 * slot.timeout_s)
            except Exception as exc:
                if isinstance(exc, asyncio.TimeoutError):
                    exc = TimeoutError(f"no answer within {2 * slot.timeout_s:g} s")
                if self._write_error is None:       # once per outage, not once per loop
                    log.warning("writing %.0f W to %s failed: %s", sp.ev_power_w, slot.name, exc)
                self._write_error = str(exc) or exc.__class__.__name__
                self._write_failed_at = self.clock.monotonic()
                self._written_w = None
                await self._fall_back_to_idle(slot, sp)
                return
            if self._write_error is not None:
                log.info("writing to %s works again", slot.name)
                self._write_error = None
            if refresh and hasattr(slot.poller.device, "refresh_heartbeat"):
                try:
                    await slot.poller.device.refresh_heartbeat()
                except Exception as exc:
                    log.warning("heartbeat to %s failed: %s", slot.name, exc)
        self._written_w, self._written_at = sp.ev_power_w, self.clock.monotonic()
        if changed:
            if self.store is not None:
                self.store.add_setpoint(sp)
            await self._emit("setpoint", sp)

    async def _fall_back_to_idle(self, slot: DeviceSlot, failed: Setpoint) -> None:
        """A refused or failed setpoint must not leave the charger on an older one: ask for 0 W.
        Not when the charger gives no fresh data: nothing reaches it then (its own communication
        timeout makes it safe), and the try would hold the loop for another timeout."""
        if failed.ev_power_w == 0.0 or not self._is_fresh(slot, self.clock.now()):
            return
        try:
            await asyncio.wait_for(slot.poller.device.write_power(0.0), 2 * slot.timeout_s)
        except Exception as exc:
            log.debug("%s: could not fall back to 0 W either: %s", slot.name, exc)

    async def _emit(self, topic: str, payload: Any) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(topic, payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener failed on %s", topic)

    def _load_preferences(self) -> Preferences:
        prefs = self.settings.default_preferences
        if self.store is None:
            return prefs
        try:
            stored = self.store.get_preferences()
        except Exception as exc:
            log.warning("stored preferences unreadable, using defaults: %s", exc)
            return prefs
        return _prefs_from_json(stored, prefs) if stored else prefs


def _plugged(state: SiteState | None) -> bool | None:
    if state is None or state.charger is None:
        return None
    return state.charger.plugged


def _public(reading: Any) -> dict[str, Any]:
    out = {}
    for k, v in vars(reading).items():
        out[k] = v.isoformat() if isinstance(v, datetime) else getattr(v, "value", v)
    return out


def _prefs_to_json(p: Preferences) -> dict[str, Any]:
    trip = p.next_trip
    return {"mode": p.mode.value, "reserve_pct": p.reserve_pct,
            "next_trip": None if trip is None else
            {"departure": trip.departure.isoformat(), "target_soc_pct": trip.target_soc_pct}}


def _prefs_from_json(d: dict[str, Any], default: Preferences) -> Preferences:
    trip = d.get("next_trip")
    return Preferences(
        mode=Mode(d.get("mode", default.mode.value)),
        reserve_pct=float(d.get("reserve_pct", default.reserve_pct)),
        next_trip=None if not trip else EvSession(datetime.fromisoformat(trip["departure"]),
                                                  float(trip["target_soc_pct"])),
    )
