"""Server-Sent Events: the live state, plan and preference events reach a logged-in browser."""
from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from hems.domain import MeterReading


async def _next_event(resp, name: str, timeout_s: float = 5.0) -> dict:
    async def read() -> dict:
        event = None
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == name:
                return json.loads(line[6:])
        raise AssertionError("stream ended")
    return await asyncio.wait_for(read(), timeout_s)


async def test_stream_sends_state_then_updates(owner, agent):
    resp = await owner.client.get("/api/v1/events")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    first = await _next_event(resp, "state")
    assert first["pv_power_w"] == 4200.0
    await asyncio.sleep(1.1)          # state events are throttled to one per second
    new = replace(agent.state, meter=MeterReading(at=agent.now, grid_power_w=300.0))
    await agent.set_state(new)
    update = await _next_event(resp, "state")
    assert update["grid_power_w"] == 300.0
    await owner.put("/api/v1/car/mode", {"mode": "off"})
    plan = await _next_event(resp, "plan")
    assert plan["start"].endswith("Z")
    resp.close()


async def test_stream_needs_login(client):
    resp = await client.get("/api/v1/events")
    assert resp.status == 401


async def test_unsubscribes_when_client_leaves(owner, agent):
    before = len(agent._listeners)                  # the notification watcher listens for the app's life
    resp = await owner.client.get("/api/v1/events")
    await _next_event(resp, "state")
    assert len(agent._listeners) == before + 1
    resp.close()
    for _ in range(50):
        await agent.set_state(agent.state)          # writing to a closed stream ends the handler
        if len(agent._listeners) == before:
            break
        await asyncio.sleep(0.05)
    assert len(agent._listeners) == before
