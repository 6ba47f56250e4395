"""What the web UI uses from the agent beyond the AgentApi Protocol, in one place.

hems.control.agent.Agent offers these; an agent without them still works, with less shown:
  next_trip(now)          the trip the planner aims at (the owner's one-off, else the weekly schedule)
  commitments             accepted aggregator commitments
  plan_error              why the last replan failed, or None
  settings.weekly         {weekday: (local time, target %)}; replaced when the owner edits it
  settings.limits         the site and car limits the safety rules apply
  request_replan()        replan soon, in the background
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, time
from typing import Any

from hems.control.api import AgentApi
from hems.domain import Commitment, EvSession
from hems.web.serialize import state_json

log = logging.getLogger(__name__)


def next_trip(agent: AgentApi, now: datetime) -> EvSession | None:
    fn = getattr(agent, "next_trip", None)
    if callable(fn):
        return fn(now)
    trip = agent.preferences.next_trip
    return trip if trip is not None and trip.departure > now else None


def live_state(agent: AgentApi, now: datetime) -> dict[str, Any]:
    """/api/v1/state and the SSE `state` event."""
    return state_json(agent.state, agent.last_setpoint, agent.preferences, next_trip(agent, now))


def commitments(agent: AgentApi) -> tuple[Commitment, ...]:
    return tuple(getattr(agent, "commitments", ()) or ())


def plan_error(agent: AgentApi) -> str | None:
    return getattr(agent, "plan_error", None)


def weekly(agent: AgentApi) -> dict[int, tuple[time, float]] | None:
    settings = getattr(agent, "settings", None)
    return getattr(settings, "weekly", None)


def set_weekly(agent: AgentApi, new: dict[int, tuple[time, float]]) -> bool:
    """Give the agent a new weekly schedule; False when it keeps none."""
    settings = getattr(agent, "settings", None)
    if settings is None or not hasattr(settings, "weekly") or not dataclasses.is_dataclass(settings):
        return False
    agent.settings = dataclasses.replace(settings, weekly=dict(new))  # type: ignore[attr-defined]
    request_replan(agent)
    return True


def limits(agent: AgentApi) -> Any:
    return getattr(getattr(agent, "settings", None), "limits", None)


def set_limits(agent: AgentApi, **changes: float) -> bool:
    """Tighten or loosen the safety limits of the running agent; False when it has none."""
    settings = getattr(agent, "settings", None)
    current = getattr(settings, "limits", None)
    if current is None or not dataclasses.is_dataclass(current):
        return False
    usable = {k: v for k, v in changes.items() if hasattr(current, k)}
    agent.settings = dataclasses.replace(settings, limits=dataclasses.replace(current, **usable))  # type: ignore
    request_replan(agent)
    return True


def request_replan(agent: AgentApi) -> None:
    fn = getattr(agent, "request_replan", None)
    if callable(fn):
        fn()
