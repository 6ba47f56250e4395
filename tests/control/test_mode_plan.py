"""The plan shows what each mode will really do; the words the owner reads about it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from hems.control.mode_plan import follow_mode
from hems.control.plan_words import AWAY, PAUSED, plan_status, trip_confirmation
from hems.domain import EvSession, Mode, Plan
from hems.planner import Problem, solve

T = datetime(2024, 6, 3, 20, tzinfo=timezone.utc)         # 22:00 in Paris
TZ = ZoneInfo("Europe/Paris")
N = 48                                                     # 12 h of 15 min


def problem(soc=40.0, target=80.0, plugged=True):
    hours = np.arange(N) / 4
    price = np.where((hours >= 3) & (hours < 6), 0.10, 0.30)      # cheap 01:00-04:00 local
    pv = np.where(hours >= 8, 6000.0, 0.0)                         # sun from 06:00 local
    return Problem(interval_s=900, import_price_per_kwh=price, export_price_per_kwh=price * 0.3,
                   pv_w=pv, load_w=np.full(N, 500.0), plugged=np.full(N, plugged), capacity_wh=60_000,
                   soc_pct=soc, min_charge_w=4140, max_charge_w=11_000, reserve_pct=20, max_soc_pct=100,
                   target_index=np.array([40]), target_soc_pct=np.array([target]), start=T)


def smart_plan(p):
    r = solve(p)
    return Plan(start=T, interval_s=900, ev_w=np.asarray(r.ev_w), soc_pct=np.asarray(r.soc_pct),
                grid_w=np.asarray(r.grid_w), cost=float(r.cost), import_price_per_kwh=p.import_price_per_kwh,
                export_price_per_kwh=p.export_price_per_kwh, pv_w=p.pv_w, load_w=p.load_w,
                target_shortfall_pct=float(r.target_shortfall_pct))


def test_off_is_a_paused_plan_with_no_power():
    p = problem()
    plan = follow_mode(smart_plan(p), p, Mode.OFF)
    assert not plan.ev_w.any() and plan.car_note == PAUSED and plan.target_shortfall_pct == 0
    assert np.allclose(plan.soc_pct, 40.0)


def test_fast_charges_from_now_until_full():
    p = problem()
    plan = follow_mode(smart_plan(p), p, Mode.FAST)
    assert plan.ev_w[0] == 11_000 and plan.soc_pct[-1] == np.float64(100.0) or abs(plan.soc_pct[-1] - 100) < 1e-6
    full_at = int(np.argmax(plan.soc_pct >= 100 - 1e-6))
    assert (plan.ev_w[:full_at - 1] == 11_000).all() and not plan.ev_w[full_at:].any()
    assert plan.cost > smart_plan(p).cost, "Fast costs more than the Smart plan"


def test_solar_only_waits_for_the_sun_and_takes_the_grid_only_when_the_target_needs_it():
    p = problem(target=60.0)
    plan = follow_mode(smart_plan(p), p, Mode.SOLAR_ONLY)
    assert not plan.ev_w[:32].any(), "no sun before 06:00: nothing"
    assert plan.ev_w[32:40].all() and plan.soc_pct[40] >= 60.0
    p = problem(soc=20.0, target=90.0)                    # too far for the sun alone: the grid helps in time
    plan = follow_mode(smart_plan(p), p, Mode.SOLAR_ONLY)
    assert plan.ev_w[:32].any() and plan.soc_pct[40] >= 90.0 - 0.5
    assert any("reach 90 %" in r for r in plan.reasons)


def test_words_for_each_mode_and_the_car_away():
    p = problem()
    plan = smart_plan(p)
    trip = EvSession(T + timedelta(hours=10), 80.0)       # Tue 08:00 in Paris
    words = trip_confirmation(plan, trip, Mode.SMART, True, TZ)
    assert words.startswith("charges ") and words.endswith("80 % by Tue 08:00")
    first = words.split(" ")[3].split("-")[0]
    assert "01:00" <= first < "04:00", words                # in the cheap hours (then the morning sun)
    assert trip_confirmation(plan, trip, Mode.OFF, True, TZ).startswith("mode Off")
    assert "plugged in" in trip_confirmation(plan, trip, Mode.SMART, False, TZ)
    assert plan_status(Mode.OFF, True) == ("paused", PAUSED)
    assert plan_status(Mode.SMART, False) == ("away", AWAY)
    assert plan_status(Mode.FAST, True)[0] == "fast"
