"""Fixtures for the web tests: a fake agent, the app, an aiohttp test client, a logged-in owner."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hems.domain.clock import ManualClock
from hems.web import create_web_app
from tests.web.fake_agent import FakeAgent, FakeConfig

T0 = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)   # a Monday, 12:00 in Europe/Amsterdam
PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent(T0)


@pytest.fixture
def config() -> FakeConfig:
    return FakeConfig()


@pytest.fixture
def store():
    return None


@pytest.fixture
async def client(agent, clock, config, store):
    app = create_web_app(agent, store, config, clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c


class Owner:
    """A logged-in client: every change carries the CSRF header."""

    def __init__(self, client: TestClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    def _h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    async def get(self, path: str):
        return await self.client.get(path)

    async def put(self, path: str, body=None, **kw):
        return await self.client.put(path, json=body, headers=self._h(), **kw)

    async def post(self, path: str, body=None, **kw):
        return await self.client.post(path, json=body, headers=self._h(), **kw)

    async def delete(self, path: str):
        return await self.client.delete(path, headers=self._h())


@pytest.fixture
async def owner(client) -> Owner:
    resp = await client.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    return Owner(client, (await resp.json())["csrf_token"])
