"""The agent on the simulated home over real Modbus TCP, a simulated day with a manual clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hems.domain.clock import ManualClock
from tests.simhome import HomeRig

START = datetime(2024, 6, 2, 22, 0, tzinfo=timezone.utc)   # Monday 00:00 in Paris
STEP_S = 60


@pytest.mark.slow
async def test_a_day_on_the_simulated_home(tmp_path):
    clock = ManualClock(START)
    # The owner leaves at 06:40 on weekdays (the simulated car never leaves before 06:45).
    ev = {"default_departure": "06:40", "default_target_soc_pct": 80}
    # Steps of a minute: the charger's own fallback timeout must be longer than a step.
    slow = {"charger": {"comm_timeout_s": 300}}
    async with HomeRig(clock, START, tmp_path, ev=ev, seed=3, devices=slow) as rig:
        home, agent = rig.home, rig.agent
        home.plant.soc_pct = 30.0
        fuse_a = rig.config.site.main_fuse_a
        worst_phase_a = 0.0
        discharged = False
        for _ in range(int(26 * 3600 / STEP_S)):
            clock.advance(STEP_S)
            home.step(clock.now())
            sp = await agent.tick(wait_for_plan=True)
            worst_phase_a = max(worst_phase_a, *home.phase_current_a)
            discharged |= sp is not None and sp.ev_power_w < 0
        assert agent.plan is not None and agent.plan_error is None
        # the car left on Monday morning and came back in the evening
        assert home.trips, "the simulated car never completed a trip"
        first = home.trips[0]
        assert first.soc_before_pct >= 80.0 - 0.5, f"left with {first.soc_before_pct:.1f} %"
        # the main fuse held on every phase all day
        assert worst_phase_a <= fuse_a + 0.5
        # what the agent measured reached the store
        rig.store.flush(include_current_minute=True)
        hist = rig.store.measurements(START, clock.now())
        assert len(hist["time"]) > 20 * 60
        assert rig.store.setpoints(START, clock.now())


async def test_stale_meter_means_safe_state(tmp_path):
    clock = ManualClock(START + timedelta(hours=3))
    async with HomeRig(clock, clock.now(), tmp_path) as rig:
        agent = rig.agent
        await agent.set_preferences(type(agent.preferences)(mode=__import__("hems.domain").domain.Mode.FAST,
                                                            reserve_pct=20.0), who="test")
        clock.advance(2)
        sp = await agent.tick()
        assert sp.ev_power_w > 0
        await rig.home._servers["meter"].stop()      # the meter goes silent
        for _ in range(10):
            clock.advance(2)
            sp = await agent.tick()
        assert "meter" in agent.state.stale
        assert sp.ev_power_w == 0 and "stale_data" in sp.clamped_by
        clock.advance(5)
        rig.home.step(clock.now())
        assert rig.home.setpoint_w == 0
