"""Findings 1, 8 and 9 on the simulated home behind the Modbus fault proxy: clock steps do not
stop polling, one slow device does not stale the others, and faults are logged once on failure
and once on recovery (no tracebacks)."""
from __future__ import annotations

import pytest

from hems.domain import Mode
from tests.chaos.rig import ChaosRig


@pytest.fixture
async def rig(tmp_path):
    async with ChaosRig(tmp_path) as r:
        await r.mode(Mode.FAST)
        await r.step(4)
        assert r.agent.last_setpoint.ev_power_w > 0, r.agent.last_setpoint
        yield r


@pytest.mark.parametrize("offset_s", [-3600.0, -86400.0 * 400, 3600.0])
async def test_a_wall_clock_step_does_not_stop_polling(rig, offset_s):
    polls = {n: s.poller.polls for n, s in rig.agent._slots.items()}
    rig.clock.offset_s = offset_s
    await rig.step(8)
    for name, slot in rig.agent._slots.items():
        assert slot.poller.polls >= polls[name] + 3, f"{name} stopped polling after a {offset_s:+.0f} s step"
    assert rig.agent.state.stale == ()
    assert rig.agent.last_setpoint.ev_power_w > 0
    assert rig.monitor.violations == []


async def test_a_very_slow_pv_inverter_does_not_stale_the_meter_or_the_charger(rig):
    rig.proxies["pv"].delay_s = 5.0          # real seconds: far beyond every timeout
    rig.proxies["pv"].set_mode("delay")
    for _ in range(15):
        await rig.step()
        assert rig.fresh("meter") and rig.fresh("charger"), rig.agent.state.stale
        assert rig.agent.last_setpoint.ev_power_w > 0, "the car must keep charging"
    assert "pv" in rig.agent.state.stale
    rig.proxies["pv"].set_mode("normal")
    assert await rig.until(lambda: rig.fresh("pv"), 20) is not None
    assert rig.monitor.violations == []


async def test_garbled_meter_replies_are_logged_once_without_traceback(rig):
    rig.proxies["meter"].set_mode("garble")
    await rig.step(30)
    assert "meter" in rig.agent.state.stale and rig.agent.last_setpoint.ev_power_w == 0
    assert rig.proxies["meter"].faults >= 5
    assert rig.logs.tracebacks == 0, rig.logs.messages
    assert rig.logs.lines <= 3, rig.logs.messages            # offline + safe state, once each
    rig.proxies["meter"].set_mode("normal")
    assert await rig.until(lambda: rig.fresh("meter"), 20) is not None
    assert rig.logs.lines <= 3, rig.logs.messages
    assert rig.monitor.violations == []


async def test_an_unreachable_charger_write_is_logged_once(rig, caplog):
    rig.proxies["charger"].set_mode("refuse")
    await rig.step(25)
    writes = [m for m in rig.logs.messages if "writing" in m]
    assert len(writes) <= 1, writes
    assert rig.logs.tracebacks == 0 and rig.logs.lines <= 4, rig.logs.messages
    rig.proxies["charger"].set_mode("normal")
    assert await rig.until(lambda: rig.fresh("charger") and rig.agent.last_setpoint.ev_power_w > 0, 30)
    assert rig.monitor.violations == []
