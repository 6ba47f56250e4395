"""What the running agent offers to its edges (web UI, aggregator link): the one contract.

The web server and the MQTT link use the agent only through `AgentApi`; they read nothing
else of it and set none of its attributes. hems.control.agent.Agent implements it; so do the
web UI's and the link's test doubles (tests/web/fake_agent.py, tests/aggregator/home.py).

Decisions stay in control: the link turns a verified dispatch into an arbitration `Request`
and asks `offer()`; the returned `Decision` says what the home promised and which earlier
commitments it superseded, so the link settles those without asking again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable, Protocol

from hems.control.arbitration import Decision, Request
from hems.control.settings import Applied, SettingsView, SiteLimits, Weekly
from hems.domain import Commitment, Envelope, EvSession, Plan, Preferences, Setpoint, SiteState

Listener = Callable[[str, Any], Awaitable[None] | None]   # (topic, payload)


class Refused(Exception):
    """A request control will not carry out: `code` for machines, the message for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class AgentApi(Protocol):
    # --- what it knows --------------------------------------------------------------------
    @property
    def state(self) -> SiteState | None: ...        # latest assembled state
    @property
    def plan(self) -> Plan | None: ...              # plan in force
    @property
    def envelope(self) -> Envelope | None: ...      # the plan's flexibility envelope
    @property
    def preferences(self) -> Preferences: ...
    @property
    def last_setpoint(self) -> Setpoint | None: ...
    @property
    def commitments(self) -> tuple[Commitment, ...]: ...   # accepted aggregator commitments
    @property
    def plan_error(self) -> str | None: ...         # why the last replan failed, or None

    def next_trip(self, now: datetime) -> EvSession | None:
        """The trip the planner aims at: the owner's one-off, else the weekly schedule."""

    def device_status(self) -> dict[str, dict[str, Any]]:
        """Per device name: role, online, last reading time, last error."""

    def live_settings(self) -> SettingsView:
        """Every live setting as it is now (site limits, tariff, schedule, enrolment)."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener(topic, payload) on 'state', 'plan', 'setpoint', 'preferences', 'event';
        returns unsubscribe."""

    # --- the owner's changes (each applies at once, or says it needs a restart) -------------
    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        """Store, log who changed what, and replan at once."""

    async def set_weekly(self, weekly: Weekly, who: str) -> None:
        """The weekly departure schedule; replans."""

    async def set_limits(self, changes: dict[str, float], who: str) -> SiteLimits:
        """Lower the site limits (main_fuse_a, max_import_w, max_export_w); raises
        SettingRefused above the installer's. The clamp, planner and arbitration use them at once."""

    async def set_tariff(self, changes: dict[str, float], who: str) -> Applied:
        """Fixed tariff prices (import/export per kWh, import markup); replans at once."""

    async def set_aggregator(self, changes: dict[str, Any], who: str) -> Applied:
        """The aggregator enrolment; it takes effect at the next start (restart_needed)."""

    # --- the aggregator's requests (verified and translated by the link) ------------------
    async def offer(self, request: Request) -> Decision:
        """Arbitrate an event or regulation request; an accepted one is in force on return."""

    async def resume(self, commitment: Commitment, regulation: bool) -> None:
        """A commitment accepted before a restart, back in force until its end."""

    async def signal(self, commitment_id: str, signal: float) -> float:
        """Follow a regulation signal in [-1, 1] within its accepted band at once. Returns the
        EV power (W) written after the safety rules; raises Refused (unknown_id, not_started, over)."""

    async def cancel(self, commitment_id: str) -> bool:
        """End a commitment now; False if none was in force."""

    async def set_default_control(self, import_limit_w: float | None, export_limit_w: float | None) -> str:
        """The aggregator's default limits when no event runs (both None: clear it at once).
        Returns what is now in force, in words."""

    async def set_price_override(self, start: datetime, interval_s: int, price_per_kwh: list[float]) -> None:
        """An aggregator's price curve (per kWh, from `start`, one per interval) for the planner."""
