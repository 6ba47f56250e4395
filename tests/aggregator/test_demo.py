"""The demo's aggregator path runs end to end on a fast clock."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from hems.aggregator.demo import AggregatorDemo
from hems.domain.clock import ScaledClock
from hems.store import Store
from tests.aggregator.home import HomeAgent


async def test_demo_script_shows_event_replay_regulation_and_settlement(tmp_path):
    clock = ScaledClock(datetime.now(timezone.utc), speedup=600.0)
    agent = HomeAgent(clock)
    store = Store(tmp_path / "hems.sqlite", clock=clock)
    lines: list[str] = []
    demo = AggregatorDemo(tmp_path / "demo", clock, out=lines.append, event_s=1200, regulation_s=600)
    assert demo.available()
    await demo.start(agent, store)
    try:
        for _ in range(400):
            await agent.tick()
            if sum("settlement" in line for line in lines) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await demo.stop()
        store.close()
    text = "\n".join(lines)
    assert "event: discharge 5 kW for 20 min -> accepted" in text, text
    assert "default control: import <= 12 kW -> done" in text, text
    assert "the same message sent again -> refused (replayed)" in text, text
    assert "regulation band 3 kW for 10 min -> accepted" in text, text
    assert sum("settlement" in line for line in lines) >= 2, text
