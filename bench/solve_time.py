"""Planner solve time for 48, 96, 192 and 384 intervals of 15 min, against the MILP.

    .venv/bin/python bench/solve_time.py [--problems 30] [--milp-problems 5]

Problems: windows of the real benchmark year (house load and PV, NL prices) at seeded random
starts; the car (60 kWh, 11 kW both ways, 4140 W minimum) is plugged in for the whole horizon,
starts at 30 % and must reach 80 % at the end. Wall time is what the control loop waits for;
CPU time (this thread) is less disturbed by other work on the machine. The gap column is the
planner's cost above the MILP's, as a share of the MILP's savings over charging at full power
from the start until the target (as in the economics benchmark).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import N, load_year  # noqa: E402
from economics import problem_for  # noqa: E402
from milp import solve_milp  # noqa: E402

from hems.planner import solve  # noqa: E402

SIZES = (48, 96, 192, 384)


def problems(year, n: int, count: int, seed: int):
    rng = np.random.default_rng(seed + n)
    for start in rng.integers(0, N - n, count):
        sl = slice(start, start + n)
        yield problem_for(year, int(start), int(start) + n, 30.0, True,
                          year.load_w[sl], year.pv_w[sl], year.spot_per_kwh[sl])


def charge_first_cost(p) -> float:
    """Cost of charging at full power from the start until the target: the reference plan."""
    ev = np.zeros(p.n)
    soc = p.soc_pct
    for t in range(p.n):
        need = (p.target_soc_pct[0] - soc) / 100 * p.capacity_wh
        if need > 0:
            ev[t] = max(p.min_charge_w, min(p.max_charge_w, need / (p.charge_efficiency * p.dt_h)))
            soc += ev[t] * p.charge_efficiency * p.dt_h / p.capacity_wh * 100
    grid = p.load_w - p.pv_w + ev
    kwh = p.dt_h / 1000
    return float(np.sum(p.import_price_per_kwh * np.maximum(grid, 0) * kwh
                        - p.export_price_per_kwh * np.maximum(-grid, 0) * kwh
                        + p.degradation_per_kwh * np.abs(ev) * kwh))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=30)
    ap.add_argument("--milp-problems", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    year = load_year()
    solve(next(problems(year, 48, 1, 0)))   # warm up imports and caches
    print("| intervals | median ms | p95 ms | median CPU ms | MILP median ms | MILP max ms "
          "| worst gap to MILP | mean gap |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in SIZES:
        wall, cpu, milp_ms, gaps = [], [], [], []
        for i, p in enumerate(problems(year, n, args.problems, args.seed)):
            c0, w0 = time.thread_time(), time.perf_counter()
            r = solve(p)
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            if i < args.milp_problems:
                m = solve_milp(p)
                milp_ms.append(m.solve_ms)
                savings = charge_first_cost(p) - m.cost
                gaps.append((r.cost - m.cost) / savings * 100 if savings > 1e-9 else 0.0)
        print(f"| {n} | {np.median(wall):.1f} | {np.percentile(wall, 95):.1f} | {np.median(cpu):.1f} "
              f"| {np.median(milp_ms):.0f} | {np.max(milp_ms):.0f} | {max(gaps):.2f} % | {np.mean(gaps):.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
