"""The safety function, as a table: each row is a situation, a request and the expected result."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hems.control.safety import SafetyLimits, clamp
from hems.domain import ChargerReading, ChargerState, MeterReading, SiteState

T = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
LIMITS = SafetyLimits(
    phases=3, voltage_v=230.0, main_fuse_a=25.0, max_import_w=17250.0, max_export_w=5000.0,
    min_charge_w=4140.0, max_charge_w=11000.0, min_discharge_w=4140.0, max_discharge_w=11000.0,
    reserve_pct=20.0, max_soc_pct=100.0,
)


def site(grid_w=500.0, ev_w=0.0, soc=50.0, state=ChargerState.CONNECTED, phase_w=None,
         stale=(), meter=True, charger=True, fault=None, car_max=(None, None)) -> SiteState:
    m = MeterReading(at=T, grid_power_w=grid_w, phase_power_w=phase_w or ()) if meter else None
    c = ChargerReading(at=T, ev_power_w=ev_w, state=state, soc_pct=soc, fault=fault,
                       max_charge_w=car_max[0], max_discharge_w=car_max[1]) if charger else None
    return SiteState(at=T, meter=m, pv=None, charger=c, stale=stale)


CASES = [
    # name, state, request W, expected W, rules
    ("within limits", site(), 7000, 7000, ()),
    ("idle stays idle", site(), 0, 0, ()),
    ("max charge", site(), 20000, 11000, ("max_charge",)),
    ("max discharge", site(soc=80), -20000, -5500, ("max_discharge", "export_limit_or_fuse")),
    ("below min charge -> 0", site(), 2000, 0, ("min_charge",)),
    ("charger offers less now", site(car_max=(7400.0, 5000.0)), 11000, 7400, ("max_charge",)),
    ("charge-only charger: no discharge", site(soc=80, car_max=(11000.0, 0.0)), -7000, 0,
     ("max_discharge",)),
    ("below min discharge -> 0", site(soc=80), -1000, 0, ("min_discharge",)),
    ("unplugged", site(state=ChargerState.NO_CAR), 7000, 0, ("unplugged",)),
    ("faulted", site(state=ChargerState.FAULT), 7000, 0, ("fault",)),
    ("fault text", site(fault="E42"), -7000, 0, ("fault",)),
    ("stale meter", site(stale=("meter",)), 7000, 0, ("stale_data",)),
    ("missing charger", site(charger=False), -7000, 0, ("stale_data",)),
    ("stale data, idle request is no change", site(stale=("charger",)), 0, 0, ()),
    ("at reserve: no discharge", site(soc=20.0), -7000, 0, ("reserve",)),
    ("below reserve: charging ok", site(soc=10.0), 7000, 7000, ()),
    ("soc unknown: no discharge", site(soc=None), -7000, 0, ("reserve",)),
    ("full: no charge", site(soc=100.0), 7000, 0, ("max_soc",)),
    # 3 x 25 A x 230 V = 17250 W; house draws 12000 W evenly -> 5250 W left
    ("fuse caps charge", site(grid_w=12000), 11000, 5250, ("fuse_or_import",)),
    # the EV's own 6000 W is part of the measured grid power and is taken out
    ("fuse counts own ev power", site(grid_w=18000, ev_w=6000), 11000, 5250, ("fuse_or_import",)),
    # one phase loaded: 5000 W on L1 of 5750 W -> 750 W per phase -> 2250 W, below min -> 0
    ("fuse per phase", site(grid_w=5000, phase_w=(5000.0, 0.0, 0.0)), 11000, 0,
     ("fuse_or_import", "min_charge")),
    # PV exports 3000 W; export limit 5000 W -> at most 2000 W more discharge, below min -> 0
    ("export limit", site(grid_w=-3000, soc=80), -7000, 0, ("export_limit_or_fuse", "min_discharge")),
    ("discharge covering the house", site(grid_w=3000, soc=80), -7000, -7000, ()),
    ("house over fuse: never forced to discharge", site(grid_w=20000), 7000, 0, ("fuse_or_import",)),
]


@pytest.mark.parametrize("name,state,request_w,expected_w,rules", CASES, ids=[c[0] for c in CASES])
def test_safety_table(name, state, request_w, expected_w, rules):
    sp = clamp(request_w, state, LIMITS, reason="test")
    assert sp.ev_power_w == pytest.approx(expected_w)
    assert sp.clamped_by == rules


def test_result_never_breaks_a_rule_for_any_request():
    for grid_w in (-8000, -3000, 0, 3000, 12000, 16000):
        for soc in (None, 10.0, 20.0, 50.0, 100.0):
            for request_w in range(-15000, 15001, 500):
                st = site(grid_w=grid_w, soc=soc)
                p = clamp(request_w, st, LIMITS, reason="x").ev_power_w
                assert p == 0 or LIMITS.min_charge_w <= p <= LIMITS.max_charge_w or \
                    -LIMITS.max_discharge_w <= p <= -LIMITS.min_discharge_w
                new_grid_w = grid_w + p
                if p != 0:
                    assert new_grid_w <= LIMITS.max_import_w + 1e-6
                    assert new_grid_w >= -LIMITS.max_export_w - 1e-6
                if p < 0:
                    assert soc is not None and soc > LIMITS.reserve_pct


# The discharge rule (hems.domain.soc.may_discharge) in the clamp: what the agent knows decides,
# not the charger's reading alone; an estimate stops discharging as much earlier as it may be wrong.
def known(soc_pct, source="estimated", error_pct=0.0):
    from hems.domain.soc import SocKnowledge, SocSource
    return SocKnowledge(soc_pct, SocSource(source), T, error_pct)


@pytest.mark.parametrize("name, soc, expected_w", [
    ("nothing known: no discharge", None, 0.0),
    ("estimate whose margin covers its error", known(30.0, error_pct=6.0), -5000.0),
    ("estimate above the reserve but within its error", known(24.0, error_pct=6.0), 0.0),
    ("entered guess 5 % above the reserve: its error reaches the reserve", known(25.0, "entered", 5.0), 0.0),
    ("entered guess well above", known(60.0, "entered", 5.0), -5000.0),
    ("measured just above the reserve", known(21.0, "measured"), -5000.0),
])
def test_discharge_only_on_a_known_level_with_margin(name, soc, expected_w):
    st = site(soc=None)                         # the charger itself reports no level
    sp = clamp(-5000, st, LIMITS, reason="x", soc=soc)
    assert sp.ev_power_w == expected_w, name
    assert ("reserve" in sp.clamped_by) == (expected_w == 0.0), name


def test_an_estimate_near_full_stops_charging_only_when_even_its_lowest_bound_is_full():
    limits = SafetyLimits(**{**LIMITS.__dict__, "max_soc_pct": 80.0})
    assert clamp(7000, site(soc=None), limits, "x", soc=known(82.0, error_pct=4.0)).ev_power_w == 7000
    sp = clamp(7000, site(soc=None), limits, "x", soc=known(86.0, error_pct=4.0))
    assert sp.ev_power_w == 0 and "max_soc" in sp.clamped_by
