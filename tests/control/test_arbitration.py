"""Table tests of the pure arbitration: accept, modify, reject from envelope and limits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from hems.control.arbitration import Flex, HomeLimits, Request, arbitrate, conflicts
from hems.domain import Commitment

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
N = 8  # 8 x 15 min


def flex(base=0.0, up=7000.0, down=7000.0, rest=500.0, **per_k) -> Flex:
    arr = lambda v: np.full(N, float(v))  # noqa: E731
    f = Flex(start=T0, interval_s=900, baseline_ev_w=arr(base), up_w=arr(up), down_w=arr(down),
             rest_grid_w=arr(rest))
    for name, (k, value) in per_k.items():
        getattr(f, name)[k:] = value
    return f


LIM = HomeLimits(max_charge_w=11000, max_discharge_w=10000, min_charge_w=4140, reserve_pct=20,
                 soc_pct=60, plugged=True, min_discharge_w=4140)
LOW = HomeLimits(max_charge_w=11000, max_discharge_w=10000, min_charge_w=4140, reserve_pct=20,
                 soc_pct=18, plugged=True, min_discharge_w=4140)
UNPLUGGED = HomeLimits(max_charge_w=11000, max_discharge_w=10000, min_charge_w=4140, reserve_pct=20,
                       soc_pct=None, plugged=False)


def ev(target, minutes=30, start_min=0, **kw) -> Request:
    return Request(id="e", kind="event", start=T0 + timedelta(minutes=start_min),
                   end=T0 + timedelta(minutes=start_min + minutes), target_w=target, **kw)


def reg(band, center=None, minutes=30) -> Request:
    return Request(id="r", kind="regulation", start=T0, end=T0 + timedelta(minutes=minutes),
                   band_w=band, center_w=center)


CASES = [
    # name, request, flex, limits, status, code, min_ev_w, max_ev_w
    ("discharge within envelope", ev(-5000), flex(), LIM, "accepted", "ok", -5000, -5000),
    ("discharge past the envelope", ev(-9000), flex(down=6000), LIM, "modified", "departure", -6000, -6000),
    ("discharge past the charger", ev(-12000), flex(down=20000), LIM, "modified", "charger", -10000, -10000),
    ("discharge at the reserve", ev(-5000), flex(), LOW, "rejected", "reserve", None, None),
    ("charge above the car's room", ev(9000), flex(up=5000), LIM, "modified", "full", 5000, 5000),
    ("charge below the AC minimum", ev(3000), flex(), LIM, "modified", "ac_minimum", 4140, 4140),
    ("discharge below the AC minimum", ev(-3000), flex(), LIM, "modified", "ac_minimum", -4140, -4140),
    ("small discharge, none possible", ev(-1000), flex(down=3000), LIM, "rejected", "ac_minimum", None, None),
    ("no car plugged in", ev(-3000), flex(), UNPLUGGED, "rejected", "unplugged", None, None),
    ("import limit fits", ev(None, import_limit_w=2000), flex(base=4000, up=0, down=8000), LIM,
     "accepted", "ok", -4000, 1500),
    ("export limit fits", ev(None, export_limit_w=1000), flex(rest=-3000), LIM, "accepted", "ok", 4140, 7000),
    ("import limit needs more discharge than allowed", ev(None, import_limit_w=0),
     flex(rest=4000, down=2000), LIM, "rejected", "departure", None, None),
    ("regulation band fits", reg(3000, center=0), flex(), LIM, "accepted", "ok", -3000, 3000),
    ("regulation band narrowed", reg(5000, center=0), flex(up=2000), LIM, "modified", "full", -2000, 2000),
    ("regulation centre chosen by the home", reg(2000), flex(base=6000, up=1000, down=8000), LIM,
     "accepted", "ok", 3000, 7000),
    ("regulation without room", reg(2000), flex(up=0, down=50), LIM, "rejected", "no_band", None, None),
    ("regulation centre clear of the AC dead zone", reg(2000), flex(up=11000), LIM, "accepted", "ok",
     4140, 8140),
]


@pytest.mark.parametrize("name,req,fl,lim,status,code,lo,hi", CASES, ids=[c[0] for c in CASES])
def test_arbitration_table(name, req, fl, lim, status, code, lo, hi):
    d = arbitrate(req, fl, lim, now=T0)
    assert (d.status, d.code) == (status, code), d.reason
    assert d.reason
    if lo is not None:
        assert d.min_ev_w == pytest.approx(lo) and d.max_ev_w == pytest.approx(hi)
        assert d.start == T0


def test_window_is_shortened_where_the_envelope_runs_out():
    fl = flex(down=7000, down_w=(2, 1000.0))  # from interval 2 on, only 1 kW of discharge
    d = arbitrate(ev(-5000, minutes=90), fl, LIM, now=T0)
    assert d.status == "modified" and d.code == "window"
    assert d.end == T0 + timedelta(minutes=30) and d.min_ev_w == -5000


def test_late_message_applies_to_what_remains():
    now = T0 + timedelta(minutes=10)
    d = arbitrate(ev(-5000, minutes=30), flex(), LIM, now=now)
    assert d.status == "accepted" and d.start == now and d.end == T0 + timedelta(minutes=30)


def test_window_past_the_horizon_is_cut():
    d = arbitrate(ev(-5000, minutes=180), flex(), LIM, now=T0)
    assert d.status == "modified" and d.end == T0 + timedelta(minutes=120)


@pytest.mark.parametrize("req,code", [
    (ev(-2000, minutes=10, start_min=-30), "over"),
    (ev(-2000, start_min=600), "beyond_horizon"),
])
def test_rejections_on_time(req, code):
    assert arbitrate(req, flex(), LIM, now=T0).code == code


def test_no_plan_rejects():
    d = arbitrate(ev(-2000), None, LIM, now=T0)
    assert d.status == "rejected" and d.code == "no_plan"


def test_commitment_never_leaves_the_envelope():
    rng = np.random.default_rng(3)
    for _ in range(300):
        base, up, down = rng.uniform(-5000, 5000), rng.uniform(0, 8000), rng.uniform(0, 8000)
        target = rng.uniform(-15000, 15000)
        fl = flex(base=base, up=up, down=down)
        d = arbitrate(ev(target), fl, LIM, now=T0)
        if d.status == "rejected":
            continue
        assert d.min_ev_w >= max(base - down, -10000) - 1e-6
        assert d.max_ev_w <= min(base + up, 11000) + 1e-6
        assert not (0 < d.max_ev_w < 4140 - 1e-6) and not (-4140 + 1e-6 < d.max_ev_w < 0)


def test_priority_conflicts():
    active = [Commitment("hi", T0, T0 + timedelta(hours=1), -1000, -1000, priority=5),
              Commitment("lo", T0, T0 + timedelta(hours=1), 0, 0, priority=0),
              Commitment("later", T0 + timedelta(hours=2), T0 + timedelta(hours=3), 0, 0)]
    req = Request(id="n", kind="event", start=T0, end=T0 + timedelta(minutes=30), priority=2, target_w=0)
    blocking, superseded = conflicts(req, active, req.start, req.end)
    assert [c.id for c in blocking] == ["hi"] and [c.id for c in superseded] == ["lo"]


def test_long_discharge_stops_where_the_corridor_would_be_broken():
    # Each interval alone allows 7 kW of discharge, but 2 hours of it would empty the car
    # below the floor from which the departure target is still reachable.
    fl = flex()
    soc = np.full(N + 1, 50.0)
    floor = np.full(N + 1, 40.0)
    fl = Flex(start=fl.start, interval_s=900, baseline_ev_w=fl.baseline_ev_w, up_w=fl.up_w,
              down_w=fl.down_w, rest_grid_w=fl.rest_grid_w, soc_pct=soc, soc_min_pct=floor)
    lim = HomeLimits(max_charge_w=11000, max_discharge_w=10000, min_charge_w=4140, reserve_pct=20,
                     soc_pct=50, plugged=True, capacity_wh=60000, efficiency=0.9)
    d = arbitrate(ev(-7000, minutes=120), fl, lim, now=T0)
    # 7 kW for 15 min = 1750 Wh / 0.9 = 3.24 % per interval: 3 intervals keep >= 40 %, the 4th not
    assert d.status == "modified" and d.end == T0 + timedelta(minutes=45), d.reason
    assert arbitrate(ev(-7000, minutes=120), fl, replace_cap(lim, None), now=T0).status == "accepted"


def replace_cap(lim, cap):
    from dataclasses import replace
    return replace(lim, capacity_wh=cap)
