from __future__ import annotations

import pytest


async def test_health_is_public_and_lists_devices(client):
    resp = await client.get("/api/v1/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok"
    assert set(body["devices"]) == {"meter", "pv", "charger"}
    assert body["devices"]["meter"]["last_reading"].endswith("Z")


async def test_health_degraded_when_device_offline(client, agent):
    agent.devices["pv"].update(online=False, last_error="timeout after 3 s")
    body = await (await client.get("/api/v1/health")).json()
    assert body["status"] == "degraded"
    assert any("pv" in p and "timeout" in p for p in body["problems"])


async def test_state_has_flows_setpoint_and_soc(owner):
    body = await (await owner.get("/api/v1/state")).json()
    assert body["pv_power_w"] == 4200.0
    assert body["grid_power_w"] == -1200.0
    assert body["ev_power_w"] == 2500.0
    # balance: grid = load + ev - pv
    assert body["house_load_w"] == pytest.approx(-1200.0 + 4200.0 - 2500.0)
    assert body["soc_pct"] == 55.0
    assert body["plugged"] is True
    assert body["setpoint"]["reason"] == "charging from solar"
    assert body["mode"] == "smart"
    # Monday 12:00 local: the weekly schedule's next departure is Tuesday 07:00 local = 05:00 UTC
    assert body["next_trip"] == {"departure": "2026-06-16T05:00:00Z", "target_soc_pct": 70.0}


async def test_plan_has_series_and_commitments(owner, agent):
    from datetime import timedelta

    from hems.domain import Commitment
    await agent.resume(Commitment("c1", agent.now + timedelta(hours=7), agent.now + timedelta(hours=9),
                                  -3000.0, -1000.0), regulation=False)
    body = await (await owner.get("/api/v1/plan")).json()
    plan = body["plan"]
    assert plan["interval_s"] == 900 and len(plan["ev_w"]) == 96 and len(plan["soc_pct"]) == 97
    assert set(plan["series"]) == {"import_price_per_kwh", "export_price_per_kwh", "pv_w", "load_w", "reasons"}
    assert plan["series"]["reasons"][0] in ("charging from solar", "idle: waiting for sun")
    assert plan["breakdown"] == {"import": 2.0}
    assert body["commitments"][0]["min_ev_w"] == -3000.0
    assert body["currency"] == "EUR" and body["timezone"] == "Europe/Amsterdam"


async def test_devices_show_readings_and_aggregator(owner, agent):
    agent.devices["charger"]["reading"] = {"ev_power_w": 2500.0, "state": "charging"}
    body = await (await owner.get("/api/v1/devices")).json()
    assert body["devices"]["charger"]["reading"]["state"] == "charging"
    assert body["aggregator"]["enabled"] is False


async def test_health_hides_readings(client, agent):
    agent.devices["charger"]["reading"] = {"ev_power_w": 2500.0}
    body = await (await client.get("/api/v1/health")).json()
    assert "reading" not in body["devices"]["charger"]


async def test_static_ui_served_with_csp(client):
    resp = await client.get("/")
    assert resp.status == 200
    assert "<main id=\"view\"" in await resp.text()
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    js = await client.get("/static/js/app.js")
    assert js.status == 200
    lib = await client.get("/static/vendor/uplot/uPlot.iife.min.js")
    assert lib.status == 200 and len(await lib.read()) > 40_000


@pytest.mark.parametrize("query", ["limit=0", "limit=5000", "limit=ten", "limit=-1"])
async def test_audit_limit_checked(owner, query):
    resp = await owner.get(f"/api/v1/audit?{query}")
    assert resp.status == 400
    assert "limit must be a whole number" in (await resp.json())["error"]
