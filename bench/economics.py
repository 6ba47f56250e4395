"""A year of home charging, closed loop at 15 min, on real data: what each strategy costs.

    .venv/bin/python bench/economics.py [--days N] [--forecast hems|simple] [--no-milp]

The house (real load and PV), the prices (NL day-ahead, import = spot + 0.15 EUR/kWh, export =
spot) and the car's sessions (ElaadNL home statistics, fixed seed) are the same for every row.
Car: 60 kWh, 11 kW both ways, 6 A minimum (4140 W, 3 phases), 92 % each way, reserve 20 %,
owner target 80 % at every departure, degradation 0.02 EUR per kWh through the battery (counted
in every row's cost). Annual cost = grid import - export revenue + degradation, whole house.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import N, STEP_S, Year, load_year  # noqa: E402
from sessions import Session, draw_sessions  # noqa: E402
from simple_forecast import SimpleForecast  # noqa: E402

from hems.planner import Problem, solve  # noqa: E402

CAPACITY_WH = 60_000.0
MAX_W, MIN_W = 11_000.0, 4140.0
ETA = 0.92
RESERVE_PCT, TARGET_PCT, FIRST_SOC_PCT = 20.0, 80.0, 80.0
DEGRADATION_PER_KWH = 0.02
DT_H = STEP_S / 3600.0
REPLAN_EVERY = 4          # intervals: hourly, as the forecasts are refreshed


@dataclass
class Outcome:
    ev_w: np.ndarray
    missed_wh: float = 0.0
    solves: int = 0
    solve_s: float = 0.0


def problem_for(year: Year, t: int, end: int, soc_pct: float, discharge: bool,
                load_w: np.ndarray, pv_w: np.ndarray, spot: np.ndarray) -> Problem:
    """The planner's problem from interval t to the departure at `end`."""
    n = end - t
    return Problem(
        interval_s=STEP_S, import_price_per_kwh=spot + year.import_adder_per_kwh, export_price_per_kwh=spot,
        pv_w=pv_w, load_w=load_w, plugged=np.ones(n, dtype=bool), capacity_wh=CAPACITY_WH,
        soc_pct=soc_pct, min_charge_w=MIN_W, max_charge_w=MAX_W,
        min_discharge_w=MIN_W if discharge else 0.0, max_discharge_w=MAX_W if discharge else 0.0,
        charge_efficiency=ETA, discharge_efficiency=ETA, reserve_pct=RESERVE_PCT,
        target_index=[n], target_soc_pct=[TARGET_PCT], degradation_per_kwh=DEGRADATION_PER_KWH)


def step_soc(soc_pct: float, ev_w: float) -> float:
    stored = ev_w * ETA * DT_H if ev_w >= 0 else ev_w * DT_H / ETA
    return min(100.0, max(0.0, soc_pct + stored / CAPACITY_WH * 100.0))   # no rounding past full


def charge_power_to(soc_pct: float, goal_pct: float) -> float:
    """Charging power this interval toward goal_pct: max, the exact remainder, or 0 if below min."""
    need_wh = (goal_pct - soc_pct) / 100.0 * CAPACITY_WH
    if need_wh <= 1e-6:
        return 0.0
    p = min(MAX_W, need_wh / (ETA * DT_H))
    return p if p >= MIN_W else MIN_W


# --- strategies: each returns the EV power for the session's intervals --------------------------

def on_arrival(ctx: "Ctx", s: Session, soc: float) -> Outcome:
    ev = np.zeros(s.depart - s.arrive)
    for i in range(len(ev)):
        ev[i] = charge_power_to(soc, TARGET_PCT)
        soc = step_soc(soc, ev[i])
    return Outcome(ev)


def evcc_style(ctx: "Ctx", s: Session, soc: float) -> Outcome:
    """PV surplus first (up to 100 %), then the cheapest known slots before departure for the target."""
    year = ctx.year
    ev = np.zeros(s.depart - s.arrive)
    for i, t in enumerate(range(s.arrive, s.depart)):
        surplus = year.pv_w[t - 1] - year.load_w[t - 1] if t else 0.0   # measured just before
        need_wh = (TARGET_PCT - soc) / 100.0 * CAPACITY_WH
        p = 0.0
        if need_wh > 0:
            slots_needed = int(np.ceil(need_wh / (MAX_W * ETA * DT_H) - 1e-9))
            known = min(s.depart, ctx.forecast.known_until[t])
            prices = year.spot_per_kwh[t:known]
            if slots_needed >= s.depart - t or np.sum(prices < prices[0]) < slots_needed:
                p = charge_power_to(soc, TARGET_PCT)
        if surplus >= MIN_W and soc < 100.0:
            p = max(p, min(surplus, MAX_W, charge_power_to(soc, 100.0) or 0.0))
        ev[i] = p
        soc = step_soc(soc, p)
    return Outcome(ev)


def hems_rolling(ctx: "Ctx", s: Session, soc: float, discharge: bool) -> Outcome:
    """Replan at arrival and at every hour (when the forecasts are refreshed) until departure;
    in between, follow the plan in force (with unchanged forecasts a replan gives the same plan)."""
    ev = np.zeros(s.depart - s.arrive)
    out = Outcome(ev)
    f = ctx.forecast
    plan, plan_t = None, s.arrive
    for i, t in enumerate(range(s.arrive, s.depart)):
        if plan is None or t % REPLAN_EVERY == 0:
            prob = problem_for(ctx.year, t, s.depart, soc, discharge, f.load_w(t, s.depart),
                               f.pv_w(t, s.depart), f.spot_per_kwh(t, s.depart))
            t0 = time.perf_counter()
            plan, plan_t = solve(prob).ev_w, t
            out.solve_s += time.perf_counter() - t0
            out.solves += 1
        ev[i] = plan[t - plan_t]
        soc = step_soc(soc, ev[i])
    return out


# --- what the planner cannot know: departure time and arrival SoC -------------------------------
DEPARTURE_SIGMA_MIN = 45.0      # the owner's departure: normal error, minutes (at most 3 sigma)
SOC_SIGMA_PCT = 3.0             # the arrival SoC estimate: normal error, % (at most 3 sigma)
Z_MARGIN = 1.96                 # one-sided 97.5 % quantile of each error: both hold in about 95 %


def uncertainty(sessions: list[Session], seed: int = 17) -> dict[int, tuple[int, float]]:
    """Per session (by arrival): (expected - true departure in intervals, SoC estimate error %)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in sessions:
        dep = float(np.clip(rng.normal(0.0, DEPARTURE_SIGMA_MIN), -3 * DEPARTURE_SIGMA_MIN, 3 * DEPARTURE_SIGMA_MIN))
        soc = float(np.clip(rng.normal(0.0, SOC_SIGMA_PCT), -3 * SOC_SIGMA_PCT, 3 * SOC_SIGMA_PCT))
        out[s.arrive] = (int(round(dep / 15.0)), soc)
    return out


def hems_uncertain(ctx: "Ctx", s: Session, soc: float, margins: bool) -> Outcome:
    """As hems_rolling (V2G), but the planner is told a departure that is off by the session's
    error and sees the SoC through an estimate that is off by its error (its own powers carry
    the estimate along). With margins, it plans the target for the departure's early 97.5 %
    quantile (and keeps it to the expected departure) and adds the SoC estimate's 97.5 %
    quantile to the target, so that both hold in about 95 % of the sessions; once the expected
    departure has passed it plans as if the car left in the next interval."""
    dep_err, soc_err = ctx.errors[s.arrive]
    expected = max(s.depart + dep_err, s.arrive + 1)
    margin_t = int(math.ceil(Z_MARGIN * DEPARTURE_SIGMA_MIN / 15.0)) if margins else 0
    target = min(100.0, TARGET_PCT + (Z_MARGIN * SOC_SIGMA_PCT if margins else 0.0))
    ev = np.zeros(s.depart - s.arrive)
    out = Outcome(ev)
    f = ctx.forecast
    estimate = float(np.clip(soc + soc_err, 0.0, 100.0))
    plan, plan_t = None, s.arrive
    for i, t in enumerate(range(s.arrive, s.depart)):
        end = min(max(expected, t + 1), t + 184 - t % 4)
        if plan is None or t % REPLAN_EVERY == 0 or t - plan_t >= len(plan):
            k = min(max(end - margin_t, 1 + t), end) - t
            prob = problem_for(ctx.year, t, end, estimate, True, f.load_w(t, end), f.pv_w(t, end),
                               f.spot_per_kwh(t, end)).replace(target_index=[k, end - t], target_soc_pct=[target, target])
            t0 = time.perf_counter()
            plan, plan_t = solve(prob).ev_w, t
            out.solve_s += time.perf_counter() - t0
            out.solves += 1
        p = plan[t - plan_t]
        if p < 0 and step_soc(soc, p) < RESERVE_PCT:       # the charger's own reserve check (measured SoC)
            p = 0.0
        ev[i] = p
        soc, estimate = step_soc(soc, p), float(np.clip(step_soc(estimate, p), 0.0, 100.0))
    return out


def hems_foresight(ctx: "Ctx", s: Session, soc: float) -> Outcome:
    y = ctx.year
    sl = slice(s.arrive, s.depart)
    prob = problem_for(y, s.arrive, s.depart, soc, True, y.load_w[sl], y.pv_w[sl], y.spot_per_kwh[sl])
    t0 = time.perf_counter()
    res = solve(prob)
    return Outcome(res.ev_w.copy(), solves=1, solve_s=time.perf_counter() - t0)


def milp_optimum(ctx: "Ctx", s: Session, soc: float) -> Outcome:
    from milp import solve_milp
    y = ctx.year
    sl = slice(s.arrive, s.depart)
    prob = problem_for(y, s.arrive, s.depart, soc, True, y.load_w[sl], y.pv_w[sl], y.spot_per_kwh[sl])
    t0 = time.perf_counter()
    res = solve_milp(prob, rel_gap=1e-6)
    return Outcome(res.ev_w.copy(), solves=1, solve_s=time.perf_counter() - t0)


@dataclass
class Ctx:
    year: Year
    forecast: object          # SimpleForecast or HemsForecast: load_w, pv_w, spot_per_kwh(t, end)
    errors: dict[int, tuple[int, float]] = field(default_factory=dict)   # per session: see uncertainty()


def run_year(ctx: Ctx, sessions: list[Session], strategy) -> dict[str, float]:
    y = ctx.year
    ev_year = np.zeros(N)
    soc, missed, solves, solve_s = FIRST_SOC_PCT, 0.0, 0, 0.0
    late: list[float] = []      # kWh short at departures that full power from arrival would have met
    reachable_sessions = 0
    for s in sessions:
        soc = max(5.0, soc - s.trip_wh / CAPACITY_WH * 100.0)
        reachable = soc + MAX_W * ETA * DT_H * (s.depart - s.arrive) / CAPACITY_WH * 100.0 >= TARGET_PCT
        reachable_sessions += reachable
        out = strategy(ctx, s, soc)
        ev_year[s.arrive:s.depart] = out.ev_w
        for p in out.ev_w:
            soc = step_soc(soc, p)
        missed += max(0.0, TARGET_PCT - soc) / 100.0 * CAPACITY_WH
        if reachable and soc < TARGET_PCT - 0.01:
            late.append((TARGET_PCT - soc) / 100.0 * CAPACITY_WH / 1000.0)
        solves, solve_s = solves + out.solves, solve_s + out.solve_s
    grid = y.load_w - y.pv_w + ev_year
    kwh = DT_H / 1000.0
    imp = float(np.sum(y.import_price_per_kwh * np.maximum(grid, 0)) * kwh)
    exp = float(np.sum(y.export_price_per_kwh * np.maximum(-grid, 0)) * kwh)
    deg = float(np.sum(np.abs(ev_year)) * kwh * DEGRADATION_PER_KWH)
    return {"cost": imp - exp + deg, "import": imp, "export": exp, "degradation": deg,
            "ev_in_kwh": float(np.sum(np.maximum(ev_year, 0)) * kwh),
            "ev_out_kwh": float(np.sum(np.maximum(-ev_year, 0)) * kwh),
            "missed_kwh": missed / 1000.0, "late_sessions": len(late), "reachable": reachable_sessions, "late_max_kwh": max(late, default=0.0),
            "late_mean_kwh": float(np.mean(late)) if late else 0.0, "solves": solves, "solve_ms": 1000 * solve_s / max(solves, 1)}


def rows(forecast_label: str, with_milp: bool, with_uncertainty: bool):
    uncertain = [
        (f"hems, V2H/V2G, {forecast_label}, departure and SoC uncertain, no margin",
         lambda c, s, x: hems_uncertain(c, s, x, False)),
        (f"hems, V2H/V2G, {forecast_label}, departure and SoC uncertain, margins",
         lambda c, s, x: hems_uncertain(c, s, x, True)),
    ]
    return [
        ("charge at full power on arrival", on_arrival),
        ("evcc-style: PV surplus, then cheapest slots", evcc_style),
        (f"hems, no discharge, {forecast_label}", lambda c, s, x: hems_rolling(c, s, x, False)),
        (f"hems, V2H/V2G, {forecast_label}", lambda c, s, x: hems_rolling(c, s, x, True)),
    ] + (uncertain if with_uncertainty else []) + [
        ("hems, V2H/V2G, perfect foresight", hems_foresight),
    ] + ([("optimum: MILP, perfect foresight", milp_optimum)] if with_milp else [])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365, help="simulate only the first N days")
    ap.add_argument("--forecast", choices=("hems", "simple"), default="hems",
                    help="hems.forecast (default) or the simple bench forecast")
    ap.add_argument("--pv", choices=("fr", "piedmont"), default="fr", help="PV data set (bench/data.py)")
    ap.add_argument("--tariff", choices=("spot", "v2g"), default="spot",
                    help="spot: hourly spot + 0.15 / spot; v2g: 15-min spot + 0.10 / spot")
    ap.add_argument("--uncertainty", action="store_true",
                    help="add rows where the departure and the arrival SoC are uncertain")
    ap.add_argument("--no-milp", action="store_true",
                    help="skip the MILP row (shares are then relative to the perfect-foresight planner)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    year = load_year(args.pv, args.tariff)
    sessions = [s for s in draw_sessions() if s.depart <= args.days * 96]
    if args.forecast == "hems":
        from hems_forecast import HemsForecast
        ctx, label = Ctx(year, HemsForecast(year), uncertainty(sessions)), "hems.forecast"
    else:
        ctx, label = Ctx(year, SimpleForecast(year), uncertainty(sessions)), "simple forecast"
    results = []
    for name, strategy in rows(label, not args.no_milp, args.uncertainty):
        t0 = time.perf_counter()
        r = run_year(ctx, sessions, strategy)
        r["wall_s"] = time.perf_counter() - t0
        results.append((name, r))
    base, best = results[0][1]["cost"], results[-1][1]["cost"]
    print(f"{year.label}: {len(sessions)} sessions over {args.days} days; costs in EUR (whole house, incl. degradation)")
    print("| strategy | annual cost | share of optimum's savings | EV in kWh | EV out kWh | missed kWh "
          "| late sessions | worst late kWh | solves | mean solve ms | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results:
        share = (base - r["cost"]) / (base - best) * 100.0 if base != best else float("nan")
        print(f"| {name} | {r['cost']:.2f} | {share:.2f} % | {r['ev_in_kwh']:.0f} | {r['ev_out_kwh']:.0f} "
              f"| {r['missed_kwh']:.1f} | {r['late_sessions']} of {r['reachable']} | {r['late_max_kwh']:.2f} | {r['solves']} "
              f"| {r['solve_ms']:.2f} | {r['wall_s']:.1f} |")
    print("late sessions: departures below the target that charging at full power from arrival would have met")
    print(f"total {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
