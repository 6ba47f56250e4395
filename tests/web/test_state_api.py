from __future__ import annotations

import pytest


async def test_health_ok_lists_devices(client):
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


async def test_state_has_flows_setpoint_and_soc(client):
    body = await (await client.get("/api/v1/state")).json()
    assert body["pv_power_w"] == 4200.0
    assert body["grid_power_w"] == -1200.0
    assert body["ev_power_w"] == 2500.0
    # balance: grid = load + ev - pv
    assert body["house_load_w"] == pytest.approx(-1200.0 + 4200.0 - 2500.0)
    assert body["soc_pct"] == 55.0
    assert body["plugged"] is True
    assert body["setpoint"]["reason"] == "charging from solar"
    assert body["mode"] == "smart"
