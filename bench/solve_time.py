"""The planner against the exact optimum (a MILP solved by HiGHS), and its solve time.

    .venv/bin/python bench/solve_time.py [--problems 8] [--timing-problems 30] [--detail]
    .venv/bin/python bench/solve_time.py --quick        # fewer problems, no 672-step MILPs

Problem sets (every problem is solved by hems.planner and by bench/milp.py):
- real: windows of the benchmark year (bench/data.py: real house load and PV, NL prices,
  import = spot + 0.15, export = spot) at seeded random starts, 48 to 672 intervals of 15 min;
  the car (60 kWh, 11 kW both ways, 92 % each way, reserve 20 %, degradation 0.02 EUR/kWh) is
  plugged in throughout, starts at 30 % and must reach 80 % at the end; minimum power 4140 W
  (6 A x 3 phases) and 0 W.
- sessions: the closed-loop year's 364 sessions (bench/sessions.py) with perfect foresight,
  each starting at 80 % minus its trip (so the set does not depend on any strategy).
- random: random prices, PV, load, plugged intervals, one or two targets, reserve, degradation,
  terminal value and import limits (48 to 384 intervals), minimum power 4140 W and 0 W.
Shortfall % = (hems cost - MILP cost) / (reference cost - MILP cost) x 100, the reference being
charging at full power from the start until the targets are met: the share of the savings
that optimal planning makes which the planner misses. Costs include the planner's penalties
(none of these problems misses a target). Solve times are CPU time (thread time, the median
of three solves): the machine may be shared, and wall time then measures its queue.
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
from economics import problem_for, CAPACITY_WH, TARGET_PCT  # noqa: E402
from milp import solve_milp  # noqa: E402
from sessions import draw_sessions  # noqa: E402

from hems.planner import Problem, solve  # noqa: E402
from hems.planner.actions import stored_wh  # noqa: E402
from hems.planner.dp import objective  # noqa: E402

SIZES = (48, 96, 192, 384, 672)
MIN_POWERS = (4140.0, 0.0)


def real_problems(year, n: int, count: int, seed: int):
    rng = np.random.default_rng(seed + n)
    for start in rng.integers(0, N - n, count):
        sl = slice(start, start + n)
        yield f"real {start}", problem_for(year, int(start), int(start) + n, 30.0, True,
                                          year.load_w[sl], year.pv_w[sl], year.spot_per_kwh[sl])


def session_problems(year):
    for s in draw_sessions():
        sl = slice(s.arrive, s.depart)
        soc = max(5.0, TARGET_PCT - s.trip_wh / CAPACITY_WH * 100.0)
        yield f"session {s.arrive}", problem_for(year, s.arrive, s.depart, soc, True, year.load_w[sl],
                                                 year.pv_w[sl], year.spot_per_kwh[sl])


def random_problem(rng: np.random.Generator, n: int) -> Problem:
    hourly = np.repeat(rng.normal(0.08, 0.07, n // 4 + 1), 4)[:n]
    day = np.sin(np.linspace(0, np.pi * n / 48, n)) ** 2
    pv = np.clip(rng.uniform(2000, 8000) * day + rng.normal(0, 400, n), 0, None)
    plugged = np.ones(n, dtype=bool)
    away = rng.integers(n // 3, n)
    plugged[away:away + int(rng.integers(0, n // 6 + 1))] = False
    soc = float(rng.uniform(15, 70))
    k1 = int(rng.integers(4, max(5, away)))
    reach = 11000 * 0.92 * 0.25 * k1 / 600.0         # % the car can gain by k1 at full power
    targets = [(k1, float(min(100.0, soc + rng.uniform(0, 0.8) * reach)))]
    if rng.random() < 0.5:
        targets.append((n, float(rng.uniform(40, 90))))
    return Problem(
        interval_s=900, import_price_per_kwh=hourly + 0.15, export_price_per_kwh=hourly, pv_w=pv,
        load_w=rng.uniform(200, 3000, n), plugged=plugged, capacity_wh=float(rng.choice([40000, 60000, 77000])),
        soc_pct=soc, min_charge_w=4140.0, max_charge_w=11000.0, min_discharge_w=0.0,
        max_discharge_w=float(rng.choice([0.0, 11000.0, 7000.0])), charge_efficiency=0.92,
        discharge_efficiency=0.92, reserve_pct=float(rng.uniform(0, 30)),
        target_index=[k for k, _ in targets], target_soc_pct=[s for _, s in targets],
        degradation_per_kwh=float(rng.choice([0.0, 0.02, 0.05])),
        terminal_value_per_kwh=float(rng.choice([0.0, 0.1])), max_import_w=float(rng.choice([np.inf, 14000.0])))


def random_problems(n: int, count: int, seed: int):
    rng = np.random.default_rng(seed * 1000 + n)
    for i in range(count):
        yield f"random {seed}/{n}/{i}", random_problem(rng, n)


def with_min(p: Problem, min_w: float) -> Problem:
    return p.replace(min_charge_w=min_w, min_discharge_w=min(min_w, p.max_discharge_w))


def floors_of(p: Problem) -> dict[int, float]:
    out: dict[int, float] = {}
    for k, s in zip(p.target_index, p.target_soc_pct):
        if k <= p.n:
            out[int(k)] = max(out.get(int(k), 0.0), s / 100.0 * p.capacity_wh)
    return out


def charge_first(p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The reference plan: full power from the start (while plugged, within the site limit and
    the max SoC) until the highest target still ahead is met; the last step charges the rest."""
    ev, energy = np.zeros(p.n), np.empty(p.n + 1)
    energy[0] = p.soc_wh
    base = p.load_w - p.pv_w
    for t in range(p.n):
        ahead = [s for k, s in zip(p.target_index, p.target_soc_pct) if k > t]
        need = (max(ahead, default=0.0) / 100.0 * p.capacity_wh) - energy[t]
        need = min(need, p.ceiling_wh - energy[t])
        cap = min(p.max_charge_w, p.max_import_w - base[t])
        if p.plugged[t] and need > 1e-6 and cap >= p.min_charge_w:
            ev[t] = min(cap, max(p.min_charge_w, need / (p.charge_efficiency * p.dt_h)))
            ev[t] = min(ev[t], (p.ceiling_wh - energy[t]) / (p.charge_efficiency * p.dt_h))
            if ev[t] < p.min_charge_w:
                ev[t] = 0.0
        energy[t + 1] = energy[t] + float(stored_wh(p, np.array([ev[t]]))[0])
    return ev, energy


def cpu_ms(p: Problem, repeats: int = 3) -> tuple[float, float, object]:
    cpu, wall, r = [], [], None
    for _ in range(repeats):
        c0, w0 = time.thread_time(), time.perf_counter()
        r = solve(p)
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return float(np.median(cpu)), float(np.median(wall)), r


def compare(name: str, p: Problem) -> dict:
    ms, _, r = cpu_ms(p)
    m = solve_milp(p, time_limit_s=600.0)
    floors = floors_of(p)
    e_m = m.soc_pct / 100.0 * p.capacity_wh
    e_r = np.asarray(r.soc_pct) / 100.0 * p.capacity_wh
    ref_ev, ref_e = charge_first(p)
    hems_obj = objective(p, floors, np.asarray(r.ev_w), e_r)
    milp_obj = objective(p, floors, m.ev_w, e_m)
    ref_obj = objective(p, floors, ref_ev, ref_e)
    savings = ref_obj - milp_obj
    if abs(hems_obj - milp_obj) <= 1e-6 * (1.0 + abs(milp_obj)):
        short = 0.0                   # the same plan cost (also where the reference is optimal too)
    else:
        short = (hems_obj - milp_obj) / savings * 100.0 if savings > 1e-9 else 100.0
    return {"name": name, "n": p.n, "min_w": p.min_charge_w, "hems": hems_obj, "milp": milp_obj,
            "short": short, "gap_eur": hems_obj - milp_obj, "ms": ms, "milp_ms": m.solve_ms,
            "milp_status": m.status}


def summary(label: str, rows: list[dict]) -> str:
    s = np.array([r["short"] for r in rows])
    g = np.array([r["gap_eur"] for r in rows])
    return (f"| {label} | {rows[0]['n'] if len({r['n'] for r in rows}) == 1 else 'mixed'} "
            f"| {rows[0]['min_w']:.0f} | {len(rows)} | {s.max():.3f} % | {np.mean(s):.4f} % | {int(np.sum(s > 0.1))} "
            f"| {g.max():.4f} | {np.median([r['ms'] for r in rows]):.1f} | {np.median([r['milp_ms'] for r in rows]):.0f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=8, help="real and random problems per size and min power")
    ap.add_argument("--timing-problems", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--detail", action="store_true", help="one row per problem")
    ap.add_argument("--quick", action="store_true", help="3 problems per group, no sessions, no 672-step MILPs")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    year = load_year()
    solve(next(real_problems(year, 48, 1, 0))[1])   # warm up imports and caches
    count = 3 if args.quick else args.problems
    groups: list[tuple[str, list[dict]]] = []
    for n in SIZES:
        if args.quick and n > 384:
            continue
        for min_w in MIN_POWERS:
            groups.append(("real", [compare(name, with_min(p, min_w))
                                     for name, p in real_problems(year, n, count, args.seed)]))
            if n <= 384:
                groups.append(("random", [compare(name, with_min(p, min_w))
                                           for name, p in random_problems(n, count, args.seed)]))
    if not args.quick:
        groups.append(("sessions", [compare(name, p) for name, p in session_problems(year)]))
    print("Exactness: hems against the MILP (shortfall = share of the optimal savings missed)")
    print("| set | steps | min power W | problems | worst shortfall | mean shortfall | over 0.1 % "
          "| worst EUR above MILP | median hems CPU ms | median MILP ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, rows in groups:
        print(summary(label, rows))
    all_rows = [r for _, rows in groups for r in rows]
    if args.detail:
        print("\n| problem | steps | min power W | hems cost | MILP cost | shortfall % | solve ms (CPU) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in all_rows:
            print(f"| {r['name']} | {r['n']} | {r['min_w']:.0f} | {r['hems']:.4f} | {r['milp']:.4f} "
                  f"| {r['short']:.4f} | {r['ms']:.1f} |")
    worst = max(all_rows, key=lambda r: r["short"])
    print(f"\nworst of {len(all_rows)}: {worst['name']} ({worst['n']} steps, min {worst['min_w']:.0f} W): "
          f"{worst['short']:.4f} % ({worst['gap_eur']:.4f} EUR)")
    timing(year, args)
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


def timing(year, args) -> None:
    print("\nSolve time, real problems, min power 4140 W (each solved 3 times; CPU = thread time)")
    print("| steps | problems | median CPU ms | p95 CPU ms | median wall ms |")
    print("|---:|---:|---:|---:|---:|")
    count = 10 if args.quick else args.timing_problems
    for n in SIZES:
        cpu, wall = [], []
        for _, p in real_problems(year, n, count, args.seed + 1):
            c, w, _ = cpu_ms(p)
            cpu.append(c)
            wall.append(w)
        print(f"| {n} | {count} | {np.median(cpu):.1f} | {np.percentile(cpu, 95):.1f} | {np.median(wall):.1f} |")


if __name__ == "__main__":
    sys.exit(main())
