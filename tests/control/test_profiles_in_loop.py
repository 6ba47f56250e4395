"""The agent runs each charger and meter profile of the simulated home end to end."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hems.domain import Mode, Preferences
from hems.domain.clock import ManualClock
from tests.simhome import HomeRig

START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)   # Tuesday 22:00 in Paris: car home


@pytest.mark.parametrize("charger,meter", [("wallbox_quasar", "sunspec"), ("evtec_bidipro10", "sdm630")])
async def test_fast_charge_and_stop_through_each_profile(tmp_path, charger, meter):
    clock = ManualClock(START)
    devices = {"charger": {"profile": charger}, "meter": {"profile": meter}}
    async with HomeRig(clock, START, tmp_path, devices=devices) as rig:
        home, agent = rig.home, rig.agent
        home.plant.plug(40.0)
        await agent.set_preferences(Preferences(mode=Mode.FAST, reserve_pct=20.0), who="test")
        for _ in range(30):
            clock.advance(2)
            await agent.tick()
        assert home.ev_w > 3000, f"{charger}: the car should charge fast, got {home.ev_w:.0f} W"
        assert agent.state.charger.ev_power_w == pytest.approx(home.ev_w, abs=300)
        assert agent.state.meter.grid_power_w == pytest.approx(home.grid_w, abs=300)
        await agent.set_preferences(Preferences(mode=Mode.OFF, reserve_pct=20.0), who="test")
        for _ in range(10):
            clock.advance(2)
            await agent.tick()
        assert abs(home.ev_w) < 50
