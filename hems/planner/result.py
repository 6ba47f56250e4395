"""What the planner returns: the schedule, its cost breakdown and how well it met the targets."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Result:
    """A plan over the n intervals of a Problem. Arrays are read-only.

    ev_w (n) [W, + charging], soc_pct (n + 1) [% at each interval boundary], grid_w (n)
    [W, + import], cost [currency] = import - export revenue + degradation - terminal value.
    """
    ev_w: np.ndarray
    soc_pct: np.ndarray
    grid_w: np.ndarray
    cost: float
    breakdown: dict[str, float]
    solve_ms: float
    target_shortfall_pct: float
    feasible: bool
    interval_s: int
    start: datetime | None = None
    soc_step_wh: float = 0.0
    bound_violation_w: float = 0.0
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("ev_w", "soc_pct", "grid_w"):
            arr = np.array(getattr(self, name), dtype=float, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "interval_s": self.interval_s,
            "ev_w": [round(float(x), 1) for x in self.ev_w],
            "soc_pct": [round(float(x), 3) for x in self.soc_pct],
            "grid_w": [round(float(x), 1) for x in self.grid_w],
            "cost": round(self.cost, 6),
            "breakdown": {k: round(v, 6) for k, v in self.breakdown.items()},
            "solve_ms": round(self.solve_ms, 3),
            "target_shortfall_pct": round(self.target_shortfall_pct, 4),
            "feasible": self.feasible,
            "bound_violation_w": round(self.bound_violation_w, 1),
            "soc_step_wh": round(self.soc_step_wh, 3),
            "warnings": list(self.warnings),
        }

    def to_plan(self, start: datetime | None = None) -> Any:
        """The domain Plan the control loop applies (start defaults to the problem's start)."""
        from hems.domain import Plan
        when = start or self.start
        if when is None:
            raise ValueError("a Plan needs a start time: pass start=")
        return Plan(start=when, interval_s=self.interval_s, ev_w=self.ev_w, soc_pct=self.soc_pct,
                    grid_w=self.grid_w, cost=self.cost, solve_ms=self.solve_ms,
                    breakdown=dict(self.breakdown), target_shortfall_pct=self.target_shortfall_pct)
