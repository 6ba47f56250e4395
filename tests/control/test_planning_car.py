"""The planner is told what is known of the car: never an invented level, plugged-ness from the state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from hems.control.agent_inputs import PlanRequest
from hems.control.car_soc import CarSoc
from hems.control.planning import horizon_times, problem_for
from hems.control.settings import SiteLimits
from hems.control.soc_estimate import CarBattery
from hems.domain import ChargerReading, ChargerState, EvSession, MeterReading, Preferences, SiteState
from hems.domain.soc import SocKnowledge, SocSource
from tests.simhome import sim_config

T = datetime(2024, 6, 3, 18, tzinfo=timezone.utc)


def request(cfg, soc_reading=None, known=None, trip_h=12.0, energy_wh=None, plugged=True, car=None):
    state = SiteState(at=T, meter=MeterReading(at=T, grid_power_w=300.0), pv=None, charger=ChargerReading(
        at=T, ev_power_w=0.0, soc_pct=soc_reading,
        state=ChargerState.CONNECTED if plugged else ChargerState.NO_CAR))
    trip = EvSession(T + timedelta(hours=trip_h), 80.0, energy_wh) if trip_h else None
    site = SiteLimits(cfg.site.main_fuse_a, cfg.site.max_import_w, cfg.site.max_export_w)
    return PlanRequest(now=T, state=state, preferences=Preferences(reserve_pct=20.0), trip=trip,
                       commitments=(), site=site, soc=known, car=car)


def problem(cfg, req):
    times = horizon_times(T, cfg.planner.interval_s, 24)
    n = len(times)
    flat = np.full(n, 0.25)
    return problem_for(cfg, req, times, (flat, flat * 0.3), np.zeros(n), np.full(n, 400.0))


def test_unknown_level_plans_by_energy_plugged_and_without_discharge(tmp_path):
    cfg = sim_config(tmp_path)
    p = problem(cfg, request(cfg, known=None))
    assert p.soc_pct == 0.0 and p.max_discharge_w == 0.0 and p.min_discharge_w == 0.0
    assert p.plugged[0], "the car is plugged in: the plan may charge it"
    assert p.target_soc_pct.tolist() == [80.0]        # the whole target level, as energy from 0
    assert p.max_soc_pct == 80.0                      # and no more than that
    k = int(p.target_index[0])
    assert p.plugged[:k].all() and not p.plugged[k:].any()


def test_trip_energy_sets_the_energy_to_add(tmp_path):
    cfg = sim_config(tmp_path)
    p = problem(cfg, request(cfg, known=None, energy_wh=12_000))
    assert abs(p.target_soc_pct[0] - 12_000 / cfg.ev.capacity_wh * 100) < 1e-9


def test_known_estimate_plans_from_its_lowest_bound_and_discharges_only_above_reserve(tmp_path):
    cfg = sim_config(tmp_path)
    p = problem(cfg, request(cfg, known=SocKnowledge(60.0, SocSource.ESTIMATED, T, 4.0)))
    assert p.soc_pct == 56.0 and p.max_discharge_w == cfg.ev.max_discharge_w and p.reserve_pct == 20.0
    p = problem(cfg, request(cfg, known=SocKnowledge(22.0, SocSource.ENTERED, T, 5.0)))
    assert p.soc_pct == 17.0 and p.max_discharge_w == 0.0


def test_unplugged_car_is_not_planned(tmp_path):
    cfg = sim_config(tmp_path)
    p = problem(cfg, request(cfg, known=None, plugged=False))
    assert not p.plugged.any()


def test_energy_added_since_plug_in_counts_towards_the_trip():
    car = CarSoc(CarBattery(capacity_wh=60_000, charge_efficiency=0.9))
    trip = EvSession(T + timedelta(hours=8), 50.0)       # 30 kWh from empty
    for minute in range(61):                              # an hour at 10 kW: 9 kWh stored
        car.observe(ChargerReading(at=T + timedelta(minutes=minute), ev_power_w=10_000.0,
                                   state=ChargerState.CHARGING))
    assert abs(car.added_wh - 9_000) < 1
    inputs = car.plan_inputs(trip, 20.0, 100.0)
    assert inputs.by_energy and abs(inputs.energy_wh - 21_000) < 1
    car.observe(ChargerReading(at=T + timedelta(hours=2), ev_power_w=0.0, state=ChargerState.NO_CAR))
    assert car.added_wh == 0.0 and car.plan_inputs(trip, 20.0, 100.0).energy_wh == 30_000
