"""Fixtures for device tests: serve hems.devices.sim simulators on real TCP."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hems.devices.modbus import BusRegistry
from hems.domain.clock import ManualClock

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def buses():
    reg = BusRegistry()
    yield reg
    await reg.close_all()


@pytest.fixture
async def serve():
    """serve(devices) -> running SimServer on 127.0.0.1; stopped after the test."""
    from hems.devices.sim import SimServer

    servers = []

    async def _serve(devices, **kwargs):
        server = SimServer(devices, **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield _serve
    for s in servers:
        await s.stop()
