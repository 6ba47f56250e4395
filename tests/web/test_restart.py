"""A setting that applies at the next start says so, and the owner can restart hems in place."""
from __future__ import annotations

import asyncio

import aiohttp

from tests.web.conftest import PASSWORD
from tests.web.simhome import sim_runtime


async def test_enrolment_change_needs_a_restart_and_the_restart_applies_it(tmp_path):
    async with sim_runtime(tmp_path / "data") as (runtime, url):
        first = runtime.agent
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:   # an IP host
            resp = await http.post(url + "/api/v1/auth/setup", json={"password": PASSWORD})
            assert resp.status == 201, await resp.text()
            csrf = {"X-CSRF-Token": (await resp.json())["csrf_token"]}
            resp = await http.put(url + "/api/v1/settings/aggregator", json={"payment_per_kwh": 0.2}, headers=csrf)
            body = await resp.json()
            assert resp.status == 200, body
            assert body["restart_needed"] is True and body["can_restart"] is True
            assert body["applies_at_next_start"] == ["aggregator"]
            resp = await http.post(url + "/api/v1/restart", headers=csrf)
            assert resp.status == 200 and (await resp.json())["restarting"] is True
            await asyncio.wait_for(runtime.restarted.wait(), 60)
            assert runtime.restarts == 1 and runtime.agent is not first
            assert runtime.agent.live_settings().aggregator["payment_per_kwh"] == 0.2
            resp = await http.post(url + "/api/v1/auth/login", json={"password": PASSWORD})
            assert resp.status == 200, await resp.text()
            body = await (await http.get(url + "/api/v1/settings")).json()
            assert body["restart_needed"] is False and body["overrides"]["aggregator"] == {"payment_per_kwh": 0.2}


async def test_restart_needs_the_owner(client):
    assert (await client.post("/api/v1/restart")).status in (401, 403)


async def test_without_a_restart_hook_the_api_says_so(owner):
    resp = await owner.post("/api/v1/restart")
    assert resp.status == 501 and "restart its service" in (await resp.json())["error"]
