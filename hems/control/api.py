"""What the running agent offers to its edges (web UI, aggregator link).

The web server and the MQTT link talk to the agent only through this Protocol, so they
can be built and tested against the real agent on the simulated home.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Protocol

from hems.domain import Commitment, Plan, Preferences, Setpoint, SiteState

Listener = Callable[[str, Any], Awaitable[None] | None]   # (topic, payload)


class AgentApi(Protocol):
    @property
    def state(self) -> SiteState | None: ...        # latest assembled state
    @property
    def plan(self) -> Plan | None: ...              # plan in force
    @property
    def preferences(self) -> Preferences: ...
    @property
    def last_setpoint(self) -> Setpoint | None: ...

    def device_status(self) -> dict[str, dict[str, Any]]:
        """Per device name: role, online, last reading time, last error."""

    async def set_preferences(self, prefs: Preferences, who: str) -> None:
        """Store, log who changed what, and replan at once."""

    async def add_commitment(self, commitment: Commitment) -> None:
        """An accepted aggregator commitment becomes a planner constraint; replans."""

    async def cancel_commitment(self, commitment_id: str) -> None: ...

    @property
    def envelope(self) -> Any:
        """The planner's flexibility envelope for the plan in force (hems.planner), or None."""

    async def set_regulation_signal(self, commitment_id: str, signal: float) -> float:
        """Follow a fast regulation signal in [-1, 1] within an accepted band at once.
        Returns the EV power (W) actually written after the safety rules."""

    async def set_price_override(self, start: Any, interval_s: int, price_per_kwh: list[float]) -> None:
        """An aggregator's price curve (per kWh, from `start`, one per interval) for the planner."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener(topic, payload) on 'state', 'plan', 'setpoint', 'event'; returns unsubscribe."""
