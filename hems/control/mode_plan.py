"""The plan as the owner's mode will really carry it out (pure).

The optimiser's plan is what Smart mode does. In the other modes the loop follows fixed rules
(hems.control.decide.interim_request), so the plan shown must be those rules run over the same
forecasts: Off charges nothing ("plan paused: mode Off"), Fast now charges at full power from now
until the car is full, Solar only charges from the forecast solar surplus and from the grid only
when the target needs it. Powers in W (+ charging), SoC in % (or energy added, by energy).
"""
from __future__ import annotations

from dataclasses import replace
import numpy as np

from hems.control.plan_words import PAUSED
from hems.domain import Mode, Plan
from hems.planner import Problem


def _ev_power(mode: Mode, k: int, soc_pct: float, problem: Problem, surplus_w: float) -> tuple[float, str]:
    if mode is Mode.OFF or not problem.plugged[k]:
        return 0.0, "off: the owner switched charging off" if mode is Mode.OFF else "no car plugged in"
    room_wh = max(0.0, problem.max_soc_pct - soc_pct) / 100 * problem.capacity_wh / problem.charge_efficiency
    room_w = room_wh * 3600 / problem.interval_s
    if room_w < 1.0:
        return 0.0, "full"
    if mode is Mode.FAST:
        return min(problem.max_charge_w, room_w), "fast: charging at full power now"
    for index, target in zip(problem.target_index, problem.target_soc_pct):
        need_wh = max(0.0, target - soc_pct) / 100 * problem.capacity_wh / problem.charge_efficiency
        # the loop checks every few seconds; at this interval's start: would the rest be enough after it?
        left_h = (int(index) - k - 1) * problem.interval_s / 3600
        if need_wh > 0 and int(index) > k and need_wh * 1.15 >= problem.max_charge_w * left_h:
            return min(problem.max_charge_w, room_w), f"charging to reach {target:.0f} % in time"
    if surplus_w >= problem.min_charge_w:
        return min(surplus_w, problem.max_charge_w, room_w), "charging from solar"
    return 0.0, "waiting for solar"


def follow_mode(plan: Plan, problem: Problem, mode: Mode) -> Plan:
    """The plan that `mode` (not Smart) will carry out over the plan's forecasts and prices."""
    if mode is Mode.SMART:
        return plan
    n = len(plan.ev_w)
    pv_w = np.asarray(plan.pv_w if plan.pv_w is not None else np.zeros(n), dtype=float)
    load_w = np.asarray(plan.load_w if plan.load_w is not None else np.zeros(n), dtype=float)
    ev_w, soc, reasons = np.zeros(n), np.zeros(n + 1), []
    soc[0] = problem.soc_pct
    for k in range(n):
        power_w, why = _ev_power(mode, k, soc[k], problem, pv_w[k] - load_w[k])
        ev_w[k] = power_w
        reasons.append(why)
        soc[k + 1] = soc[k] + power_w * problem.interval_s / 3600 * problem.charge_efficiency / problem.capacity_wh * 100
    grid_w = load_w + ev_w - pv_w
    dt_h = problem.interval_s / 3600
    imp = np.asarray(plan.import_price_per_kwh if plan.import_price_per_kwh is not None else np.zeros(n))
    exp = np.asarray(plan.export_price_per_kwh if plan.export_price_per_kwh is not None else np.zeros(n))
    import_cost = float(np.sum(np.clip(grid_w, 0, None) * imp) * dt_h / 1000)
    export_income = float(np.sum(np.clip(-grid_w, 0, None) * exp) * dt_h / 1000)
    shortfall = 0.0
    for index, target in zip(problem.target_index, problem.target_soc_pct):
        if 0 < index <= n:
            shortfall = max(shortfall, float(target - soc[int(index)]))
    note = PAUSED if mode is Mode.OFF else plan.car_note
    return replace(plan, ev_w=ev_w, soc_pct=soc, grid_w=grid_w, cost=import_cost - export_income,
                   breakdown={"import": import_cost, "export": -export_income},
                   target_shortfall_pct=max(0.0, shortfall) if mode is not Mode.OFF else 0.0,
                   reasons=tuple(reasons), car_note=note)

