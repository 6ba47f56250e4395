"""The agent driving an AC charger through the microcontroller bridge.

The bridge firmware runs in real MicroPython on simulated hardware behind a socat pty pair; the
meter and PV come from the simulated home over Modbus TCP. The config names the charger
`profile = "bridge_pilot"`, `transport = "bridge"`, as an installer would.
"""
from __future__ import annotations

import asyncio
import shutil
import time
from datetime import datetime, timezone

import pytest

from hems.domain import ChargerState, Mode, Preferences
from hems.domain.clock import SystemClock
from tests.firmware_bridge.pty_firmware import firmware  # noqa: F401 (the fixture)
from tests.simhome import HomeRig

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat")


async def test_agent_charges_through_the_pilot_and_never_discharges(tmp_path, firmware):
    clock = SystemClock()              # the firmware runs in real time
    charger = {"profile": "bridge_pilot", "transport": "bridge", "host": None, "port": None,
               "comm_timeout_s": None, "poll_interval_s": 0.5, "timeout_s": 1.0}
    bridge = {"serial_port": firmware.host_tty, "heartbeat_interval_s": 0.5, "heartbeat_timeout_s": 2.0,
              "max_current_a": 16}
    async with HomeRig(clock, clock.now(), tmp_path, devices={"charger": charger}, bridge=bridge) as rig:
        agent = rig.agent
        firmware.cmd("car C")
        await agent.set_preferences(Preferences(mode=Mode.FAST, reserve_pct=20.0), who="test")
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            sp = await agent.tick()
            status = agent.frequency_source.link.status if agent.frequency_source else None
            if status is not None and status.pilot_out_a >= 15.9 and \
                    agent.state.charger is not None and agent.state.charger.state is ChargerState.CHARGING:
                break
            await asyncio.sleep(0.2)
        # Fast: the configured 11000 W on 3 x 230 V -> 15.9 A (the pilot's 0.1 A steps, rounded down)
        assert status is not None and status.pilot_out_a == pytest.approx(15.9)
        assert agent.state.charger.state is ChargerState.CHARGING
        # the pilot charger reports no discharge capability; a discharge request is clamped to 0
        assert agent.state.charger.max_discharge_w == 0.0
        await agent.set_preferences(Preferences(mode=Mode.OFF, reserve_pct=20.0), who="test")
        for _ in range(10):
            await agent.tick()
            await asyncio.sleep(0.2)
        assert agent.frequency_source.link.status.pilot_out_a == 0.0


async def test_smart_mode_charges_the_pilot_car_in_the_cheap_intervals(tmp_path, firmware):
    """An AC car behind the pilot: no charge level ever, so hems plans the trip's energy and puts
    it in the cheapest intervals; the pilot follows the plan's interval."""
    from datetime import timedelta

    import numpy as np

    from hems.domain import EvSession

    clock = SystemClock()
    charger = {"profile": "bridge_pilot", "transport": "bridge", "host": None, "port": None,
               "comm_timeout_s": None, "poll_interval_s": 0.5, "timeout_s": 1.0}
    bridge = {"serial_port": firmware.host_tty, "heartbeat_interval_s": 0.5, "heartbeat_timeout_s": 2.0,
              "max_current_a": 16}
    async with HomeRig(clock, clock.now(), tmp_path, devices={"charger": charger}, bridge=bridge) as rig:
        agent, interval_s = rig.agent, rig.config.planner.interval_s
        firmware.cmd("car C")
        now = clock.now()
        start = datetime.fromtimestamp(now.timestamp() // interval_s * interval_s, tz=timezone.utc)
        if (start + timedelta(seconds=interval_s) - now).total_seconds() < 20:   # keep one interval
            await asyncio.sleep((start + timedelta(seconds=interval_s) - now).total_seconds() + 0.5)
            now = clock.now()
            start += timedelta(seconds=interval_s)
        trip = EvSession(start + timedelta(hours=4), 80.0, energy_wh=10_000)
        await agent.set_preferences(Preferences(mode=Mode.SMART, reserve_pct=20.0, next_trip=trip), who="test")
        await _until(agent, lambda: agent.state is not None and agent.state.charger is not None
                     and agent.state.charger.plugged)
        # dear now, cheap for the next four intervals, dear after
        prices = [0.60] + [0.05] * 4 + [0.60] * 91
        await agent.set_price_override(start, interval_s, prices)
        plan = agent.plan
        assert plan.by_energy and agent.car_soc is None, "the pilot never tells the level: plan by energy"
        assert not (plan.ev_w < 0).any()
        cheap = np.asarray(plan.import_price_per_kwh) < 0.1
        stored_wh = float(plan.ev_w[cheap].sum()) * interval_s / 3600 * rig.config.ev.charge_efficiency
        assert stored_wh >= 10_000 * 0.99, f"the cheap intervals hold {stored_wh:.0f} Wh of the 10 kWh"
        assert plan.ev_w[plan.index_at(clock.now())] == 0, "dear now: wait for the cheap intervals"
        await _until(agent, lambda: True, ticks=5)
        assert agent.frequency_source.link.status.pilot_out_a == 0.0
        # the price turns: cheap now -> the pilot charges now
        await agent.set_price_override(start, interval_s, [0.05] * 4 + [0.60] * 92)
        await _until(agent, lambda: agent.frequency_source.link.status.pilot_out_a >= 6.0)
        assert agent.last_setpoint.ev_power_w > 0 and "cheap" in agent.last_setpoint.reason


async def _until(agent, condition, ticks=50):
    for _ in range(ticks):
        await agent.tick()
        if condition():
            return
        await asyncio.sleep(0.2)
    assert condition()
