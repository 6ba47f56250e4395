"""The flexibility envelope: how far the EV power of each interval could move away from the
plan while the owner's targets and reserve stay reachable, and the feasible SoC corridor.

This is what the aggregator link publishes. Aggregator bounds already in the problem are not
applied here (the envelope says what the car and the owner allow); physics (0 or [min, max],
the charge/discharge ceilings, site limits, plugged) and owner constraints are.
Each interval's up_w/down_w holds for that interval alone, with the rest of the plan re-planned.
"""
from __future__ import annotations

import numpy as np

from hems.domain import Envelope
from hems.planner.actions import power_for, stored_wh
from hems.planner.problem import Problem
from hems.planner.result import Result


def power_ceilings_w(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Per interval the largest charge and discharge power (W, both >= 0; 0 = not possible)."""
    base = problem.load_w - problem.pv_w
    charge = np.minimum(problem.max_charge_w, problem.max_import_w - base)
    charge = np.where((charge >= problem.min_charge_w) & (charge > 0) & problem.plugged, charge, 0.0)
    discharge = np.minimum(problem.max_discharge_w, problem.max_export_w + base)
    discharge = np.where((discharge >= problem.min_discharge_w) & (discharge > 0) & problem.plugged,
                         discharge, 0.0)
    return charge, discharge


def corridor_wh(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(floor, ceiling) of stored energy at each boundary (n + 1), owner constraints included."""
    n, lo, hi = problem.n, problem.floor_wh, problem.ceiling_wh
    pc, pd = power_ceilings_w(problem)
    e_c, e_d = stored_wh(problem, pc), -stored_wh(problem, -pd)
    reach_hi, reach_lo = np.empty(n + 1), np.empty(n + 1)
    reach_hi[0] = reach_lo[0] = problem.soc_wh
    for t in range(n):
        reach_hi[t + 1] = min(hi, reach_hi[t] + e_c[t])
        reach_lo[t + 1] = max(lo, reach_lo[t] - e_d[t])
    target = np.full(n + 1, lo)
    for k, soc in zip(problem.target_index, problem.target_soc_pct):
        if k <= n:
            target[k] = max(target[k], min(soc / 100.0 * problem.capacity_wh, reach_hi[k]))
    need = np.empty(n + 1)
    need[n] = target[n]
    for t in range(n - 1, -1, -1):
        need[t] = max(target[t], need[t + 1] - e_c[t])
    return np.maximum(need, reach_lo), reach_hi


def flexibility(problem: Problem, result: Result) -> Envelope:
    """Per-interval EV power range around `result` that keeps the owner constraints feasible."""
    floor_wh, ceil_wh = corridor_wh(problem)
    pc, pd = power_ceilings_w(problem)
    energy = result.soc_pct * problem.capacity_wh / 100.0
    room_up = np.maximum(problem.ceiling_wh - energy[:-1], 0.0)      # Wh the battery can take
    need = floor_wh[1:] - energy[:-1]                                 # Wh that must be added (if > 0)
    p_up = np.minimum(pc, power_for(problem, room_up, True, max(problem.max_charge_w, 1.0)))
    charge_ok = (p_up >= problem.min_charge_w) & (p_up > 0)
    p_hi = np.where(charge_ok, p_up, 0.0)
    spare = np.maximum(-need, 0.0)
    p_dn = np.minimum(pd, power_for(problem, spare, False, max(problem.max_discharge_w, 1.0)))
    discharge_ok = (p_dn >= problem.min_discharge_w) & (p_dn > 0) & (need <= 0)
    p_need = np.maximum(problem.min_charge_w, power_for(problem, np.maximum(need, 0.0), True,
                                                          max(problem.max_charge_w, 1.0)))
    p_lo = np.where(discharge_ok, -p_dn, np.where(need > 0, np.minimum(p_need, p_hi), 0.0))
    plan = result.ev_w
    p_hi = np.maximum(p_hi, plan)
    p_lo = np.minimum(p_lo, plan)
    off = ~problem.plugged
    p_hi, p_lo = np.where(off, 0.0, p_hi), np.where(off, 0.0, p_lo)
    to_pct = 100.0 / problem.capacity_wh
    return Envelope(up_w=p_hi - plan, down_w=plan - p_lo, ev_min_w=p_lo, ev_max_w=p_hi,
                    soc_min_pct=floor_wh * to_pct, soc_max_pct=ceil_wh * to_pct,
                    interval_s=problem.interval_s, start=problem.start)
