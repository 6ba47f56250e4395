"""Settings (admin): tariff and site limits (applied at once), aggregator enrolment, LAN view."""
from __future__ import annotations

import pytest



async def test_settings_show_config_values(owner):
    body = await (await owner.get("/api/v1/settings")).json()
    s = body["settings"]
    assert s["tariff"]["kind"] == "fixed" and s["tariff"]["import_price_per_kwh"] == 0.30
    assert s["site"]["main_fuse_a"] == 25.0
    assert s["web"]["lan_read_only"] is False
    assert body["applies_at_once"] == ["site", "tariff", "web"]


async def test_site_limits_apply_to_running_agent_at_once(owner, agent):
    replans = agent.replans
    resp = await owner.put("/api/v1/settings/site", {"main_fuse_a": 20, "max_export_w": 4600})
    assert resp.status == 200
    assert agent.live_settings().site.main_fuse_a == 20.0 and agent.live_settings().site.max_export_w == 4600.0
    assert agent.replans > replans
    body = await resp.json()
    assert body["settings"]["site"]["main_fuse_a"] == 20.0
    assert body["overrides"]["site"] == {"main_fuse_a": 20.0, "max_export_w": 4600.0}


@pytest.mark.parametrize("section, body, status, message", [
    ("site", {"main_fuse_a": 3}, 422, "between 6 and 250"),
    ("site", {"max_import_w": -1}, 422, "max_import_w must be between"),
    ("site", {"phases": 1}, 422, "unknown field 'phases'"),
    ("site", {}, 422, "nothing to change"),
    ("tariff", {"import_price_per_kwh": "cheap"}, 422, "must be a number"),
    ("tariff", {"export_price_per_kwh": 9}, 422, "between -1 and 5"),
    ("aggregator", {"host": "bad host!"}, 422, "host name"),
    ("aggregator", {"port": 70000}, 422, "between 1 and 65535"),
    ("aggregator", {"site_id": "a/b"}, 422, "letters, digits"),
    ("aggregator", {"enabled": True}, 422, "set host too"),
    ("aggregator", {"enabled": "yes"}, 422, "true or false"),
    ("web", {"lan_read_only": 1}, 422, "true or false"),
    ("power", {"x": 1}, 404, "no settings section 'power'"),
])
async def test_bad_settings_refused(owner, agent, section, body, status, message):
    before = agent.live_settings()
    resp = await owner.put(f"/api/v1/settings/{section}", body)
    data = await resp.json()
    assert resp.status == status, data
    assert message in data["error"], data
    assert agent.live_settings() == before


async def test_aggregator_enrolment_stored(owner):
    resp = await owner.put("/api/v1/settings/aggregator",
                           {"enabled": True, "host": "broker.example.net", "port": 8883, "site_id": "home-42"})
    assert resp.status == 200
    body = await resp.json()
    assert body["overrides"]["aggregator"]["site_id"] == "home-42"
    assert "aggregator" in body["applies_at_next_start"]


async def test_settings_need_owner(client, owner):
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": owner.csrf})
    assert (await client.get("/api/v1/settings")).status == 401
    assert (await client.put("/api/v1/settings/site", json={"main_fuse_a": 20})).status == 401
