"""The agent replans on events and keeps the previous plan when a solve fails."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from hems.domain.clock import ManualClock
from tests.simhome import HomeRig

START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)   # Tuesday 22:00 in Paris: car home


async def _ticks(rig, clock, n, step_s=2.0):
    sp = None
    for _ in range(n):
        clock.advance(step_s)
        sp = await rig.agent.tick(wait_for_plan=True)
    return sp


async def test_plug_in_replans_with_the_car(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        rig.home.plant.unplug()
        await _ticks(rig, clock, 3)
        assert rig.agent.plan is not None
        assert not np.any(rig.agent.plan.ev_w), "no car: nothing planned"
        rig.home.plant.plug(25.0)
        await _ticks(rig, clock, 3)
        assert rig.agent.plan.ev_w.max() > 0, "the car came home: charging planned"
        assert rig.agent.plan.soc_pct[0] == 25.0


async def test_aggregator_price_curve_makes_the_car_sell(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        rig.home.plant.plug(90.0)
        await _ticks(rig, clock, 3)
        start = START + timedelta(hours=1)
        prices = [0.20] * 4 + [3.00] * 4 + [0.20] * 8      # 15-min prices: a spike
        await rig.agent.set_price_override(start, 900, prices)
        plan = rig.agent.plan
        k0 = plan.index_at(start + timedelta(hours=1))
        assert plan.ev_w[k0:k0 + 4].min() < 0, "the spike is sold from the car"
        assert plan.import_price_per_kwh[k0] == 3.00


async def test_failed_replan_keeps_previous_plan_and_says_so(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        rig.home.plant.plug(50.0)
        await _ticks(rig, clock, 3)
        good = rig.agent.plan
        assert good is not None

        def broken(request):
            raise RuntimeError("solver exploded")
        rig.agent._replan_fn = broken
        events = []
        rig.agent.subscribe(lambda topic, payload: events.append((topic, payload)))
        await rig.agent.replan_now()
        assert rig.agent.plan is good
        assert "solver exploded" in rig.agent.plan_error
        assert any(t == "event" and p.get("kind") == "plan_error" for t, p in events)
        sp = await _ticks(rig, clock, 1)
        assert sp is not None        # the loop goes on with the previous plan
