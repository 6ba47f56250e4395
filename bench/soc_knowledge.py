"""What not knowing the car's charge level costs: the same sessions planned with the level known,
estimated from the owner's entry, or unknown (plan by energy), on the real benchmark year.

    .venv/bin/python bench/soc_knowledge.py [--days 28] [--forecast simple|hems]

Same house, prices, car and ElaadNL sessions as bench/economics.py (60 kWh, 11 kW both ways,
target 80 % at every departure, reserve 20 %, degradation 0.02 EUR/kWh), hems replanning hourly:
- known: the charger reports the level (perfect knowledge, V2H/V2G allowed above the reserve);
- entered: the owner types the car's gauge at arrival (+-3 %, seeded); hems knows it with the
  5 % error of a guess, grown by 5 % of the energy counted since, plans from the lowest bound
  (hems.control.car_plan) and discharges only when that bound is above the reserve;
- unknown, energy asked: nothing known, the owner's trip says the energy to add (what the car's
  app shows), no discharge;
- unknown, nothing asked: the whole target level as energy (48 kWh); the car's battery management
  stops at 100 %, no discharge.
Cost = grid import - export + degradation over the whole house; missed = energy short of 80 %
at departure; "with missed" adds the missed energy at the year's mean import price (charged
later elsewhere), so rows that charge more and miss less compare fairly; extra is against the
known row.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data import N, load_year  # noqa: E402
from economics import (CAPACITY_WH, DEGRADATION_PER_KWH, DT_H, ETA, FIRST_SOC_PCT,  # noqa: E402
                       RESERVE_PCT, REPLAN_EVERY, TARGET_PCT, Ctx, Outcome, problem_for, step_soc)
from sessions import draw_sessions  # noqa: E402

from hems.control.car_plan import car_plan_inputs  # noqa: E402
from hems.domain import EvSession  # noqa: E402
from hems.domain.soc import SocKnowledge, SocSource  # noqa: E402
from hems.planner import solve  # noqa: E402

ENTERED_ERROR_PCT, COUNTING_ERROR, GAUGE_PCT = 5.0, 0.05, 3.0


def _clip(soc_pct: float) -> float:
    return min(100.0, soc_pct)           # the car's battery management stops a charge at full


def rolling(ctx: Ctx, s, soc: float, knowledge: str, rng: random.Random) -> Outcome:
    """hems replanning hourly with what it knows of the car in this session."""
    f, n = ctx.forecast, s.depart - s.arrive
    ev, out = np.zeros(n), None
    out = Outcome(ev)
    gauge = min(100.0, max(0.0, soc + rng.uniform(-GAUGE_PCT, GAUGE_PCT)))
    energy_asked_wh = max(0.0, TARGET_PCT - soc) / 100 * CAPACITY_WH
    counted_wh, added_wh, plan, plan_t = 0.0, 0.0, None, s.arrive
    for i, t in enumerate(range(s.arrive, s.depart)):
        if plan is None or t % REPLAN_EVERY == 0:
            if knowledge == "known":
                known = SocKnowledge(soc, SocSource.MEASURED, _T)
            elif knowledge == "entered":
                est = min(100.0, max(0.0, gauge + counted_wh / CAPACITY_WH * 100))
                err = min(100.0, ENTERED_ERROR_PCT + COUNTING_ERROR * abs(counted_wh) / CAPACITY_WH * 100)
                known = SocKnowledge(est, SocSource.ESTIMATED, _T, err)
            else:
                known = None
            trip_wh = energy_asked_wh if knowledge == "energy" else None
            if known is None:
                wanted = trip_wh if trip_wh is not None else TARGET_PCT / 100 * CAPACITY_WH
                trip_wh = max(0.0, wanted - added_wh)
            car = car_plan_inputs(known, EvSession(_T, TARGET_PCT, trip_wh), RESERVE_PCT, CAPACITY_WH)
            prob = problem_for(ctx.year, t, s.depart, car.start_pct, car.allow_discharge, f.load_w(t, s.depart),
                               f.pv_w(t, s.depart), f.spot_per_kwh(t, s.depart))
            target = car.target_pct or 0.0
            prob = prob.replace(target_soc_pct=[target], reserve_pct=car.reserve_pct,
                                max_soc_pct=target if car.by_energy else 100.0)
            t0 = time.perf_counter()
            plan, plan_t = solve(prob).ev_w, t
            out.solve_s += time.perf_counter() - t0
            out.solves += 1
        p = float(plan[t - plan_t])
        if p > 0 and soc >= 100.0 - 1e-9:
            p = 0.0                        # full: the car takes nothing
        ev[i] = p
        stored_wh = (step_soc(soc, p) - soc) / 100 * CAPACITY_WH
        soc = _clip(step_soc(soc, p))
        counted_wh += p * DT_H * (ETA if p >= 0 else 1 / ETA)
        added_wh += max(0.0, stored_wh)
    return out


_T = __import__("datetime").datetime(2024, 1, 1, tzinfo=__import__("datetime").timezone.utc)


def run(ctx: Ctx, sessions, knowledge: str, end: int) -> dict[str, float]:
    """The sessions in order (the level carried over, less each trip), costed up to `end`."""
    y, rng = ctx.year, random.Random(1)
    ev_year = np.zeros(N)
    soc, missed, solves = FIRST_SOC_PCT, 0.0, 0
    for s in sessions:
        soc = max(5.0, soc - s.trip_wh / CAPACITY_WH * 100.0)
        out = rolling(ctx, s, soc, knowledge, rng)
        ev_year[s.arrive:s.depart] = out.ev_w
        for p in out.ev_w:
            soc = _clip(step_soc(soc, p))
        missed += max(0.0, TARGET_PCT - soc) / 100.0 * CAPACITY_WH
        solves += out.solves
    grid = (y.load_w - y.pv_w + ev_year)[:end]
    kwh = DT_H / 1000.0
    imp = float(np.sum(y.import_price_per_kwh[:end] * np.maximum(grid, 0)) * kwh)
    exp = float(np.sum(y.export_price_per_kwh[:end] * np.maximum(-grid, 0)) * kwh)
    deg = float(np.sum(np.abs(ev_year[:end])) * kwh * DEGRADATION_PER_KWH)
    missed_cost = missed / 1000 * float(np.mean(y.import_price_per_kwh))
    return {"cost": imp - exp + deg, "with_missed": imp - exp + deg + missed_cost, "ev_in_kwh": float(np.sum(np.maximum(ev_year, 0)) * kwh),
            "ev_out_kwh": float(np.sum(np.maximum(-ev_year, 0)) * kwh), "missed_kwh": missed / 1000, "solves": solves}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--forecast", choices=("simple", "hems"), default="simple")
    args = ap.parse_args(argv)
    year = load_year()
    if args.forecast == "hems":
        from hems_forecast import HemsForecast
        ctx = Ctx(year, HemsForecast(year))
    else:
        from simple_forecast import SimpleForecast
        ctx = Ctx(year, SimpleForecast(year))
    end = min(args.days * 96, N)
    sessions = [s for s in draw_sessions() if s.depart <= end]
    rows = [("level known (charger reports it)", "known"), ("level entered at arrival, then estimated", "entered"),
            ("level unknown, trip energy asked", "energy"), ("level unknown, nothing asked", "nothing")]
    print(f"{len(sessions)} sessions over {args.days} days, {args.forecast} forecast; EUR, whole house")
    print("| knowledge | cost | with missed | extra vs known | EV in kWh | EV out kWh | missed kWh | solves |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for name, knowledge in rows:
        r = run(ctx, sessions, knowledge, end)
        base = r["with_missed"] if base is None else base
        print(f"| {name} | {r['cost']:.2f} | {r['with_missed']:.2f} | {r['with_missed'] - base:+.2f} | {r['ev_in_kwh']:.0f} | "
              f"{r['ev_out_kwh']:.0f} | {r['missed_kwh']:.1f} | {r['solves']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
