"""Finding 10 end to end: the running agent's data dir fills up. The agent keeps controlling
the car, says once that the disk is full (the real cause), applies the owner's changes, and
saves everything it kept once space is back."""
from __future__ import annotations

from hems.domain import Mode
from tests.chaos.rig import ChaosRig
from tests.robustness.conftest import fill, free


async def test_the_agent_keeps_running_on_a_full_disk(tiny_disk):
    async with ChaosRig(tiny_disk / "data", storage={"flush_interval_s": 1}) as rig:
        await rig.mode(Mode.FAST)
        await rig.step(8)
        assert rig.store.last_error is None and rig.agent.last_setpoint.ev_power_w > 0
        fill(tiny_disk)
        # a finished minute is written at the next flush (every second here)
        assert await rig.until(lambda: rig.store.last_error is not None, 150) is not None
        assert "disk is full" in rig.store.last_error
        assert rig.agent.last_setpoint.ev_power_w > 0, "the car keeps charging"
        await rig.mode(Mode.OFF)                        # the owner's change applies all the same
        await rig.step(3)
        assert rig.agent.last_setpoint.ev_power_w == 0
        await rig.mode(Mode.FAST)
        await rig.step(12)
        full_lines = [m for m in rig.logs.messages if "disk is full" in m]
        assert len(full_lines) <= 3, full_lines         # the flush once, the two preference saves
        assert rig.logs.tracebacks == 0, rig.logs.messages
        pending = rig.store.pending()
        assert pending > 0
        free(tiny_disk)
        assert await rig.until(lambda: rig.store.last_error is None, 150) is not None
        assert rig.store.pending() < pending
        assert rig.monitor.violations == []
