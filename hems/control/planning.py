"""Turn the agent's view (state, wishes, commitments, forecasts) into a planner problem and back.

Runs in a worker thread: it reads history from the store, asks the forecasters, builds the
planner's Problem, solves it and returns the plan (with its prices, forecasts and reasons) and
its flexibility envelope.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta, timezone
from dataclasses import replace
from typing import Callable

import numpy as np

from hems.config import Config
from hems.control.agent import PlanRequest
from hems.control.forecasting import Forecaster
from hems.domain import Envelope, Plan
from hems.planner import Problem, flexibility, solve

log = logging.getLogger(__name__)


def horizon_times(now: datetime, interval_s: int, horizon_h: float) -> list[datetime]:
    """Interval starts from the current interval (aligned to interval_s) over the horizon."""
    epoch = now.timestamp()
    first = datetime.fromtimestamp(epoch - epoch % interval_s, tz=timezone.utc)
    n = int(horizon_h * 3600 // interval_s)
    return [first + timedelta(seconds=k * interval_s) for k in range(n)]


def problem_for(cfg: Config, req: PlanRequest, times: list[datetime], prices: tuple[np.ndarray, np.ndarray],
                pv_w: np.ndarray, load_w: np.ndarray) -> Problem:
    """The planner problem for this moment (built directly; the JSON form is for `hems plan`)."""
    ev, site = cfg.ev, req.site          # the owner's live site limits, not the start-up config
    fuse_w = cfg.site.phases * cfg.site.voltage_v * site.main_fuse_a
    interval_s = cfg.planner.interval_s
    n = len(times)
    charger = req.state.charger
    plugged_now = bool(charger is not None and charger.plugged)
    soc_pct = charger.soc_pct if charger is not None and charger.soc_pct is not None else None
    target_index, target_soc = [], []
    plugged = np.full(n, plugged_now)
    if req.trip is not None:
        k = math.ceil((req.trip.departure - times[0]).total_seconds() / interval_s)
        if 0 < k <= n:
            target_index.append(k)
            target_soc.append(req.trip.target_soc_pct)
            plugged = plugged_now & (np.arange(n) < k)
    ev_min = np.full(n, np.nan)
    ev_max = np.full(n, np.nan)
    for c in req.commitments:
        for i, t in enumerate(times):
            if c.start < t + timedelta(seconds=interval_s) and t < c.end:
                ev_min[i], ev_max[i] = c.min_ev_w, c.max_ev_w
    return Problem(
        interval_s=interval_s, start=times[0],
        import_price_per_kwh=prices[0], export_price_per_kwh=prices[1], pv_w=pv_w, load_w=load_w,
        capacity_wh=ev.capacity_wh, soc_pct=soc_pct if soc_pct is not None else 50.0,
        min_charge_w=ev.min_charge_w, max_charge_w=ev.max_charge_w,
        min_discharge_w=ev.min_discharge_w, max_discharge_w=ev.max_discharge_w,
        charge_efficiency=ev.charge_efficiency, discharge_efficiency=ev.discharge_efficiency,
        reserve_pct=req.preferences.reserve_pct, max_soc_pct=ev.max_soc_pct,
        plugged=plugged if soc_pct is not None else np.zeros(n, dtype=bool),
        target_index=np.asarray(target_index, dtype=int), target_soc_pct=np.asarray(target_soc, dtype=float),
        degradation_per_kwh=ev.degradation_per_kwh, terminal_value_per_kwh=0.0,
        max_import_w=min(site.max_import_w, fuse_w), max_export_w=min(site.max_export_w, fuse_w),
        ev_min_w=ev_min, ev_max_w=ev_max,
    )


def plan_reasons(ev_w: np.ndarray, grid_w: np.ndarray, pv_w: np.ndarray, load_w: np.ndarray,
                 import_price: np.ndarray, export_price: np.ndarray, currency: str) -> list[str]:
    """Why the plan does what it does in each interval, in the owner's words."""
    out = []
    for k, p in enumerate(ev_w):
        if p > 0 and pv_w[k] - load_w[k] >= 0.8 * p:
            out.append("charging from solar")
        elif p > 0:
            out.append(f"charging: cheap hour ({import_price[k]:.2f} {currency}/kWh)")
        elif p < 0 and grid_w[k] > -100:
            out.append(f"discharging: powering the house at a peak price ({import_price[k]:.2f} {currency}/kWh)")
        elif p < 0:
            out.append(f"discharging: selling at a peak price ({export_price[k]:.2f} {currency}/kWh)")
        else:
            out.append("idle: waiting for cheaper hours or sun")
    return out


def make_replan(cfg: Config, forecaster: Forecaster) -> Callable[[PlanRequest], tuple[Plan, Envelope] | None]:
    """The function the agent calls in its worker thread."""

    def replan(req: PlanRequest) -> tuple[Plan, Envelope] | None:
        times = horizon_times(req.now, cfg.planner.interval_s, cfg.planner.horizon_h)
        prices, pv_w, load_w = forecaster.forecast(times, req.now)
        problem = problem_for(cfg, req, times, prices, pv_w, load_w)
        result = solve(problem)
        envelope = flexibility(problem, result)
        ev_w, grid_w = np.asarray(result.ev_w, dtype=float), np.asarray(result.grid_w, dtype=float)
        plan = Plan(
            start=times[0], interval_s=cfg.planner.interval_s, ev_w=ev_w,
            soc_pct=np.asarray(result.soc_pct, dtype=float), grid_w=grid_w, cost=float(result.cost),
            solve_ms=float(result.solve_ms), breakdown={k: float(v) for k, v in result.breakdown.items()},
            target_shortfall_pct=float(result.target_shortfall_pct),
            reasons=tuple(plan_reasons(ev_w, grid_w, pv_w, load_w, prices[0], prices[1], cfg.tariff.currency)),
            import_price_per_kwh=np.asarray(prices[0], dtype=float),
            export_price_per_kwh=np.asarray(prices[1], dtype=float),
            pv_w=np.asarray(pv_w, dtype=float), load_w=np.asarray(load_w, dtype=float),
        )
        view = forecaster.price_view(times, req.now)
        if view is not None:       # where each price came from; estimated ones say so
            plan = replace(plan, price_source=tuple(view.source), reasons=tuple(
                r if src != "estimate" else f"{r} ({view.note})" for r, src in zip(plan.reasons, view.source)))
        return plan, envelope

    return replan
