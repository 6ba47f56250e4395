"""First-run password, login, sessions, CSRF, rate limiting, audit, read-only LAN view."""
from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD


async def test_first_visit_requires_setup_and_no_default_password(client):
    status = await (await client.get("/api/v1/auth/status")).json()
    assert status["setup_required"] is True and status["logged_in"] is False
    for password in ("admin", "", "password", "hems"):
        resp = await client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
        assert resp.status == 401


async def test_data_needs_login_before_setup(client):
    assert (await client.get("/api/v1/state")).status == 401
    assert (await client.get("/api/v1/plan")).status == 401


@pytest.mark.parametrize("password, message", [
    ("short", "at least 10"),
    ("aaaaaaaaaaaa", "too simple"),
    (1234567890123, "must be a string"),
    ("x" * 201, "at most 200"),
])
async def test_setup_refuses_weak_passwords(client, password, message):
    resp = await client.post("/api/v1/auth/setup", json={"password": password})
    assert resp.status == 422
    body = await resp.json()
    assert message in body["error"] and body["field"] == "password"


async def test_setup_only_once(client, owner):
    resp = await client.post("/api/v1/auth/setup", json={"password": "another good password"})
    assert resp.status == 409
    assert "already set" in (await resp.json())["error"]


async def test_setup_sets_httponly_samesite_cookie(client):
    resp = await client.post("/api/v1/auth/setup", json={"password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "hems_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert PASSWORD not in cookie


async def test_login_logout_cycle(client, owner):
    assert (await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": owner.csrf})).status == 200
    assert (await client.get("/api/v1/state")).status == 401
    resp = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert resp.status == 200
    csrf = (await resp.json())["csrf_token"]
    assert csrf and csrf != owner.csrf
    assert (await client.get("/api/v1/state")).status == 200


async def test_change_without_csrf_token_refused(client, owner, agent):
    resp = await client.put("/api/v1/car/mode", json={"mode": "off"})
    assert resp.status == 403
    assert "CSRF" in (await resp.json())["error"]
    resp = await client.put("/api/v1/car/mode", json={"mode": "off"}, headers={"X-CSRF-Token": "forged"})
    assert resp.status == 403
    assert agent.changes == []


async def test_unauthenticated_change_refused(client, agent):
    resp = await client.put("/api/v1/car/mode", json={"mode": "fast"}, headers={"X-CSRF-Token": "x"})
    assert resp.status == 401
    assert agent.changes == []


async def test_cross_origin_change_refused(client, owner, agent):
    resp = await client.put("/api/v1/car/mode", json={"mode": "off"},
                            headers={"X-CSRF-Token": owner.csrf, "Origin": "http://evil.example"})
    assert resp.status == 403
    assert "cross-site" in (await resp.json())["error"]
    assert agent.changes == []


async def test_login_rate_limited_then_recovers(client, owner, clock):
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": owner.csrf})
    for _ in range(5):
        resp = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong password!"})
        assert resp.status == 401
    resp = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "too many" in (await resp.json())["error"]
    clock.advance(301)
    resp = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert resp.status == 200


async def test_session_expires(client, owner, clock):
    assert (await client.get("/api/v1/state")).status == 200
    clock.advance(31 * 24 * 3600)
    assert (await client.get("/api/v1/state")).status == 401


async def test_password_change_needs_current_and_ends_other_sessions(client, owner):
    resp = await owner.post("/api/v1/auth/password", {"current_password": "nope", "new_password": "a new long password"})
    assert resp.status == 403
    resp = await owner.post("/api/v1/auth/password", {"current_password": PASSWORD, "new_password": "short"})
    assert resp.status == 422 and (await resp.json())["field"] == "new_password"
    resp = await owner.post("/api/v1/auth/password", {"current_password": PASSWORD, "new_password": "a new long password"})
    assert resp.status == 200
    assert (await client.get("/api/v1/state")).status == 200      # this session stays
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": owner.csrf})
    bad = await client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert bad.status == 401
    ok = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "a new long password"})
    assert ok.status == 200


async def test_every_change_is_audited_with_who(owner):
    await owner.put("/api/v1/car/mode", {"mode": "solar_only"})
    await owner.put("/api/v1/car/reserve", {"reserve_pct": 30})
    entries = (await (await owner.get("/api/v1/audit")).json())["entries"]
    actions = [(e["who"], e["action"]) for e in entries]
    assert ("admin", "set_mode") in actions and ("admin", "set_reserve") in actions
    mode = next(e for e in entries if e["action"] == "set_mode")
    assert mode["detail"] == {"mode": "solar_only", "was": "smart"} and mode["at"].endswith("Z")


async def test_lan_read_only_view(client, owner, agent):
    resp = await owner.put("/api/v1/settings/web", {"lan_read_only": True})
    assert resp.status == 200
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": owner.csrf})
    status = await (await client.get("/api/v1/auth/status")).json()
    assert status["read_only_view"] is True and status["logged_in"] is False
    assert (await client.get("/api/v1/state")).status == 200          # 127.0.0.1 is on the LAN
    assert (await client.get("/api/v1/settings")).status == 401       # admin pages stay closed
    resp = await client.put("/api/v1/car/mode", json={"mode": "off"})
    assert resp.status == 401
    assert [c[0].mode.value for c in agent.changes] == []


async def test_bad_login_bodies(client, owner):
    cases = [
        (b"not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 422, "JSON object, not an array"),
        (b"null", "application/json", 422, "JSON object, not null"),
        (b'{"password": "x"}', "text/plain", 415, "application/json"),
        (b'{"password": "x", "role": "admin"}', "application/json", 422, "unknown field 'role'"),
        (b'{"username": "a b", "password": "x"}', "application/json", 422, "username"),
        (b'{"username": "admin"}', "application/json", 422, "password must be a string"),
        (b"", "application/json", 400, "empty"),
    ]
    for raw, ctype, status, message in cases:
        resp = await client.post("/api/v1/auth/login", data=raw, headers={"Content-Type": ctype})
        body = await resp.json()
        assert resp.status == status, (raw, body)
        assert message in body["error"], (raw, body)


async def test_setup_refused_for_a_public_host_name(client):
    """A DNS-rebinding page reaches the Pi under its own public name: no setup, no login."""
    resp = await client.post("/api/v1/auth/setup", json={"password": PASSWORD}, headers={"Host": "rebind.evil.example"})
    assert resp.status == 403 and "host name" in (await resp.json())["error"]
    resp = await client.post("/api/v1/auth/setup", json={"password": PASSWORD}, headers={"Host": "hems.local:8080"})
    assert resp.status == 201
