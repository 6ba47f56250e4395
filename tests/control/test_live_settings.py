"""A setting means the same everywhere: a change through the web API reaches the next replan,
the flexibility envelope, arbitration and the safety clamp of the real agent, without restart."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
from aiohttp.test_utils import TestClient, TestServer

from hems.control.arbitration import Request
from hems.domain import Mode
from hems.domain.clock import ManualClock
from hems.web import create_web_app
from tests.simhome import HomeRig

START = datetime(2024, 6, 4, 20, 0, tzinfo=timezone.utc)   # Tuesday 22:00 in Paris: car home
PASSWORD = "correct horse battery"
LIMIT_W = 5000.0
EPS_W = 1.0


async def _ticks(rig, clock, n, step_s=2.0):
    sp = None
    for _ in range(n):
        clock.advance(step_s)
        rig.home.step(clock.now())
        sp = await rig.agent.tick(wait_for_plan=True)
    return sp


async def _owner(rig, clock):
    client = TestClient(TestServer(create_web_app(rig.agent, rig.store, rig.config, clock), host="127.0.0.1"))
    await client.start_server()
    resp = await client.post("/api/v1/auth/setup", json={"username": "admin", "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    return client, {"X-CSRF-Token": (await resp.json())["csrf_token"]}


async def test_site_import_limit_reaches_plan_envelope_arbitration_and_clamp(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        rig.home.plant.plug(20.0)
        await _ticks(rig, clock, 3)
        assert rig.agent.plan.grid_w.max() > LIMIT_W + 1000, "the car is planned above the new limit"
        client, csrf = await _owner(rig, clock)
        try:
            resp = await client.put("/api/v1/settings/site", json={"max_import_w": LIMIT_W}, headers=csrf)
            assert resp.status == 200, await resp.text()
            agent = rig.agent
            plan, envelope = agent.plan, agent.envelope
            assert plan.grid_w.max() <= LIMIT_W + EPS_W, "the replan keeps the grid under the new limit"
            rest_w = plan.grid_w - plan.ev_w
            assert np.max(envelope.ev_max_w + rest_w) <= LIMIT_W + EPS_W, "the envelope too"
            now = clock.now()
            decision = await agent.offer(Request(id="e1", kind="event", start=now, end=now + timedelta(hours=1),
                                                 target_w=11000.0))
            assert (decision.status, decision.code) == ("modified", "site"), decision
            assert "import at most 5000 W" in decision.reason
            k = plan.index_at(now)
            assert decision.max_ev_w + rest_w[k] <= LIMIT_W + EPS_W, "arbitration promises no more"
            assert await agent.cancel("e1")
            await agent.set_preferences(replace(agent.preferences, mode=Mode.FAST), "owner")
            sp = await _ticks(rig, clock, 2)
            state = agent.state
            assert "fuse_or_import" in sp.clamped_by, sp      # Fast asks 11 kW; the clamp cuts it
            assert state.meter.grid_power_w - state.charger.ev_power_w + sp.ev_power_w <= LIMIT_W + EPS_W
        finally:
            await client.close()


async def test_raising_a_site_limit_above_the_installers_is_refused(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        await _ticks(rig, clock, 1)
        client, csrf = await _owner(rig, clock)
        try:
            resp = await client.put("/api/v1/settings/site", json={"main_fuse_a": 32}, headers=csrf)
            body = await resp.json()
            assert resp.status == 422 and "installer" in body["error"], body
            assert rig.agent.safety_limits().main_fuse_a == rig.config.site.main_fuse_a
            resp = await client.put("/api/v1/settings/site", json={"main_fuse_a": 16}, headers=csrf)
            assert resp.status == 200
            assert rig.agent.safety_limits().main_fuse_a == 16
            assert (await resp.json())["installer_limits"]["main_fuse_a"] == rig.config.site.main_fuse_a
        finally:
            await client.close()


async def test_tariff_change_reaches_the_next_replan(tmp_path):
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        rig.home.plant.plug(50.0)
        await _ticks(rig, clock, 3)
        before = rig.agent.plan
        client, csrf = await _owner(rig, clock)
        try:
            resp = await client.put("/api/v1/settings/tariff", json={"import_markup_per_kwh": 0.40}, headers=csrf)
            assert resp.status == 200, await resp.text()
            body = await resp.json()
            assert "tariff" in body["applies_at_once"] and body["restart_needed"] is False
        finally:
            await client.close()
        after = rig.agent.plan
        assert after is not before, "replanned at once"
        n = min(len(before.ev_w), len(after.ev_w))
        assert after.start == before.start
        shift = after.import_price_per_kwh[:n] - before.import_price_per_kwh[:n]
        assert np.allclose(shift, 0.25), shift


async def test_settings_persist_through_the_owner_and_stay_under_a_lowered_config(tmp_path):
    """Saved once, read back at the next start; a config lowered since caps the saved value."""
    clock = ManualClock(START)
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        await rig.agent.set_limits({"max_export_w": 9000.0}, "owner")
        await rig.agent.set_tariff({"import_markup_per_kwh": 0.2}, "owner")
    async with HomeRig(clock, START, tmp_path, seed=1) as rig:
        view = rig.agent.live_settings()
        assert view.site.max_export_w == 9000.0 and view.tariff.import_markup_per_kwh == 0.2
    async with HomeRig(clock, START, tmp_path, seed=1, site={"max_export_w": 6000}) as rig:
        assert rig.agent.live_settings().site.max_export_w == 6000.0
        assert rig.agent.safety_limits().max_export_w == 6000.0
