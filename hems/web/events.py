"""Live updates by Server-Sent Events: GET /api/v1/events.

Events: `state` (the live picture, at most every `min_interval_s`), `plan` (a new plan is in
force: refetch /api/v1/plan), `setpoint`, `notice` (device or plan trouble, commitments).
A `ping` event every 15 s keeps proxies and phones from closing an idle stream and tells the
page the link is alive.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

from hems.domain import Setpoint
from hems.web import keys
from hems.web.auth import access
from hems.web.serialize import iso, jsonable, live_state, setpoint_json

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
MIN_STATE_INTERVAL_S = 1.0
QUEUE_MAX = 100
CLOSE = "__close__"
STREAMS: web.AppKey[set] = web.AppKey("hems_sse_streams", set)
CLOSING: web.AppKey[asyncio.Event] = web.AppKey("hems_sse_closing", asyncio.Event)


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream so the server stops at once."""
    app[CLOSING].set()
    for queue in list(app.get(STREAMS, ())):
        queue.put_nowait((CLOSE, None))


def encode(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@access("read")
async def get_events(request: web.Request) -> web.StreamResponse:
    if request.app[CLOSING].is_set():
        raise web.HTTPServiceUnavailable(text="hems is shutting down")
    agent = request.app[keys.AGENT]
    clock = request.app[keys.CLOCK]
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=QUEUE_MAX)

    def listener(topic: str, payload: Any) -> None:
        if queue.full():       # a slow client loses old events, never blocks the agent
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        queue.put_nowait((topic, payload))

    resp = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    await resp.prepare(request)
    unsubscribe = agent.subscribe(listener)
    _streams(request.app).add(queue)
    last_state = 0.0
    try:
        await resp.write(b"retry: 3000\n\n")
        await resp.write(encode("state", live_state(agent, clock.now())))
        while True:
            try:
                topic, payload = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except asyncio.TimeoutError:
                await resp.write(b"event: ping\ndata: {}\n\n")   # an event, so the page sees the link is alive
                continue
            if topic == CLOSE:
                break
            chunk = _event_for(topic, payload, agent, clock)
            if chunk is None:
                continue
            if chunk[0] == "state":
                if time.monotonic() - last_state < MIN_STATE_INTERVAL_S:
                    continue
                last_state = time.monotonic()
            await resp.write(encode(*chunk))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        unsubscribe()
        _streams(request.app).discard(queue)
    return resp


def _event_for(topic: str, payload: Any, agent: Any, clock: Any) -> tuple[str, Any] | None:
    if topic == "state":
        return "state", live_state(agent, clock.now())
    if topic == "plan":
        return "plan", {"start": iso(getattr(payload, "start", None))}
    if topic == "setpoint" and isinstance(payload, Setpoint):
        return "setpoint", setpoint_json(payload)
    if topic == "preferences":
        return "preferences", {}
    if topic == "event":
        return "notice", jsonable(payload)
    return None


def _streams(app: web.Application) -> set:
    return app[STREAMS]


def add_routes(app: web.Application) -> None:
    app[STREAMS] = set()
    app[CLOSING] = asyncio.Event()
    app.router.add_get("/api/v1/events", get_events)
