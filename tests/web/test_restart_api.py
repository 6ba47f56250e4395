"""Restart from the Settings page: only where a service manager brings hems back."""
from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from hems.web import create_web_app, restart
from tests.web.conftest import PASSWORD


async def owner_client(app):
    c = TestClient(TestServer(app, host="127.0.0.1"))
    await c.start_server()
    setup = await (await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})).json()
    return c, {"X-CSRF-Token": setup["csrf_token"]}


async def test_not_offered_without_a_service_manager(agent, clock, config, monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)      # even when the tests run under systemd
    c, h = await owner_client(create_web_app(agent, None, config, clock))
    try:
        assert (await (await c.get("/api/v1/restart")).json()) == {"available": False}
        resp = await c.post("/api/v1/restart", json={}, headers=h)
        assert resp.status == 409 and "service manager" in (await resp.json())["error"]
    finally:
        await c.close()


def test_systemd_is_recognised_by_its_invocation_id(monkeypatch):
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    assert restart.systemd_restarter() is None
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    assert callable(restart.systemd_restarter())


async def test_under_a_service_manager_the_owner_can_restart(agent, clock, config):
    stopped = asyncio.Event()
    app = create_web_app(agent, None, config, clock)
    app[restart.RESTARTER] = stopped.set                 # where systemd would get SIGTERM'd hems back
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        assert (await c.post("/api/v1/restart", json={})).status == 401
        setup = await (await c.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})).json()
        h = {"X-CSRF-Token": setup["csrf_token"]}
        assert (await (await c.get("/api/v1/restart")).json()) == {"available": True}
        resp = await c.post("/api/v1/restart", json={}, headers=h)
        assert resp.status == 202
        await asyncio.wait_for(stopped.wait(), 5)
        audit = await (await c.get("/api/v1/audit")).json()
        assert audit["entries"][0]["action"] == "restart"
