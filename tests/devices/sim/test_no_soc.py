"""The simulated chargers' `no_soc` option: power and energy, never a state of charge."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hems.devices.sim.__main__ import parse_args
from hems.domain import Mode, Preferences
from hems.domain.clock import ManualClock
from tests.simhome import HomeRig

START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)   # Tuesday 22:00 in Paris: car home


@pytest.mark.parametrize("charger", ["sunspec_charger", "wallbox_quasar", "evtec_bidipro10"])
@pytest.mark.parametrize("no_soc", [False, True])
async def test_charger_hides_soc_when_asked(tmp_path, charger, no_soc):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, devices={"charger": {"profile": charger}},
                       sim={"no_soc": no_soc}) as rig:
        rig.home.plant.plug(40.0)
        await rig.agent.set_preferences(Preferences(mode=Mode.FAST, reserve_pct=20.0), who="test")
        for _ in range(30):
            clock.advance(2)
            await rig.agent.tick()
        reading = rig.agent.state.charger
        assert reading.ev_power_w > 3000
        if no_soc:
            assert reading.soc_pct is None
        else:
            assert reading.soc_pct == pytest.approx(rig.home.plant.soc_pct, abs=1.0)


def test_cli_flag():
    assert parse_args(["--charger", "sunspec", "--no-soc"]).no_soc is True
    assert parse_args([]).no_soc is False
