"""Fixtures for the web tests: a fake agent, the app, and an aiohttp test client."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hems.domain.clock import ManualClock
from hems.web import create_web_app
from tests.web.fake_agent import FakeAgent

T0 = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent(T0)


@pytest.fixture
async def client(agent, clock):
    app = create_web_app(agent, None, None, clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c
