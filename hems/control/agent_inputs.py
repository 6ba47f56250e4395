"""The agent's inputs and settings: what a replan is handed, what the agent is built with.

Kept apart from hems.control.agent so the planning side (hems.control.planning) and the
composition root can name them without the loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol
from zoneinfo import ZoneInfo

from hems.config.model import TariffConfig
from hems.control.car_plan import CarPlanInputs
from hems.control.decide import CarLimits
from hems.control.safety import SafetyLimits
from hems.control.settings import SiteLimits
from hems.control.soc_estimate import CarBattery
from hems.control.soc_probe import ProbeRules
from hems.domain import Commitment, Envelope, EvSession, Plan, Preferences, SiteState
from hems.domain.soc import SocKnowledge

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
    soc: SocKnowledge | None = None                 # what is known of the car's level (None: unknown)
    car: CarPlanInputs | None = None                # what the planner is told of the car (None: from soc)


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
    battery: CarBattery | None = None               # for SoC estimation; None: from `car`
    soc_probe: ProbeRules | None = None             # the charger reports SoC only while power flows
