"""What the web keeps in the store survives a restart: the owner, the weekly schedule, settings."""
from __future__ import annotations

from datetime import time

from aiohttp.test_utils import TestClient, TestServer

from hems.store import Store
from hems.web import create_web_app
from tests.web.conftest import PASSWORD, T0
from tests.web.fake_agent import FakeAgent, FakeConfig


async def test_schedule_settings_and_owner_survive_restart(tmp_path, clock):
    path = tmp_path / "hems.sqlite"
    store = Store(path, clock=clock)
    app = create_web_app(FakeAgent(T0, store), store, FakeConfig(), clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        csrf = (await (await c.post("/api/v1/auth/setup", json={"password": PASSWORD})).json())["csrf_token"]
        days = {d: None for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        days["fri"] = {"departure": "06:15", "target_soc_pct": 85}
        assert (await c.put("/api/v1/car/schedule", json={"days": days}, headers={"X-CSRF-Token": csrf})).status == 200
        assert (await c.put("/api/v1/settings/site", json={"main_fuse_a": 16},
                            headers={"X-CSRF-Token": csrf})).status == 200
    store.close()

    store = Store(path, clock=clock)
    assert FakeAgent(T0).live_settings().weekly[0] == (time(7, 0), 70.0)   # the config's schedule
    agent = FakeAgent(T0, store)               # a fresh agent on the same store
    app = create_web_app(agent, store, FakeConfig(), clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        assert agent.live_settings().weekly == {4: (time(6, 15), 85.0)}          # restored at start
        assert agent.live_settings().site.main_fuse_a == 16.0
        status = await (await c.get("/api/v1/auth/status")).json()
        assert status["setup_required"] is False
        assert (await c.post("/api/v1/auth/login", json={"password": PASSWORD})).status == 200
        body = await (await c.get("/api/v1/settings")).json()
        assert body["settings"]["site"]["main_fuse_a"] == 16.0
    store.close()
