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
