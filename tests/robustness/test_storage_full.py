"""Finding 10: a full disk is reported as such (not "cannot rollback"), logged once and once on
recovery, the agent's store keeps the rows, the web answers first-run setup with 507 (not 500)
and the Devices data shows the cause."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from aiohttp.test_utils import TestClient, TestServer

from hems.domain import Setpoint
from hems.domain.clock import ManualClock
from hems.store import Store
from hems.web import create_web_app
from tests.robustness.conftest import fill, free
from tests.web.conftest import PASSWORD, T0
from tests.web.fake_agent import FakeAgent, FakeConfig


def setpoints(store: Store, clock: ManualClock, n: int) -> None:
    for i in range(n):
        store.add_setpoint(Setpoint(at=clock.now(), ev_power_w=float(i), reason="x" * 100, clamped_by=()))


def test_store_on_a_page_capped_database_reports_disk_full_once_and_recovers(tmp_path, caplog):
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = Store(tmp_path / "h.sqlite", clock=clock, flush_interval_s=1e9)
    pages = store.query("PRAGMA page_count")[0][0]
    store.query(f"PRAGMA max_page_count = {pages + 2}")       # SQLite's own "disk is full"
    setpoints(store, clock, 5000)
    with caplog.at_level(logging.INFO, logger="hems.store.store"):
        for _ in range(3):
            assert store.flush() == 0
    assert "disk is full" in store.last_error and "rollback" not in store.last_error
    assert store.pending() == 5000
    assert sum("disk is full" in r.getMessage() for r in caplog.records) == 1
    store.query("PRAGMA max_page_count = 1000000")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hems.store.store"):
        assert store.flush() == 5000
    assert store.last_error is None
    assert any("work again" in r.getMessage() for r in caplog.records)
    assert len(store.setpoints(clock.now().replace(year=2025), clock.now().replace(year=2027))) == 5000
    store.close()


def test_store_on_a_full_tiny_disk(tiny_disk):
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = Store(tiny_disk / "h.sqlite", clock=clock, flush_interval_s=1e9)
    fill(tiny_disk)
    setpoints(store, clock, 500)
    assert store.flush() == 0
    assert "disk is full" in store.last_error
    free(tiny_disk)
    assert store.flush() == 500 and store.last_error is None
    store.close()


async def test_first_run_setup_and_devices_page_on_a_full_disk(tiny_disk):
    clock = ManualClock(T0)
    store = Store(tiny_disk / "h.sqlite", clock=clock, flush_interval_s=1e9)
    app = create_web_app(FakeAgent(T0), store, FakeConfig(), clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        fill(tiny_disk)
        resp = await c.post("/api/v1/auth/setup", json={"password": PASSWORD})
        assert resp.status == 507
        assert "disk is full" in (await resp.json())["error"]
        setpoints(store, clock, 500)
        store.flush()
        free(tiny_disk)
        resp = await c.post("/api/v1/auth/setup", json={"password": PASSWORD})
        assert resp.status == 201
        fill(tiny_disk)
        store.flush()
        body = await (await c.get("/api/v1/devices")).json()
        assert body["storage"]["ok"] is False and "disk is full" in body["storage"]["error"]
        free(tiny_disk)
        store.flush()
        body = await (await c.get("/api/v1/devices")).json()
        assert body["storage"] == {"ok": True, "error": None}
    store.close()
