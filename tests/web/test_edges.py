"""Findings 3, 6, 7 and 11 at the HTTP edge: hostile JSON is a 400 naming the problem (never a
500), non-API 404s carry the security headers, the public health answer is minimal, and the
admin's login lock survives a spray of failed logins from many addresses."""
from __future__ import annotations

import logging

import pytest

from hems.web.ratelimit import LoginLimiter


@pytest.mark.parametrize("body, words", [
    (b"[" * 100_000 + b"]" * 100_000, "deeply"),          # > 64 KiB: refused by size first
    (b'{"username": "admin", "password": ' + b"[" * 1500 + b"]" * 1500 + b"}", "deeply"),
    (b'{"username": "admin", "password": NaN}', "non-finite"),
    (b'{"username": "admin", "password": 1e999}', "not finite"),
    (b'{"username": "\\ud800", "password": "x"}', "surrogate"),
])
async def test_hostile_json_without_login_is_a_400(client, caplog, body, words):
    with caplog.at_level(logging.WARNING):
        resp = await client.post("/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert resp.status in (400, 413)
    if resp.status == 400:
        assert words in (await resp.json())["error"]
    assert not any(r.exc_info for r in caplog.records), "no traceback for bad input"


async def test_nan_in_a_settings_body_is_refused(owner, agent):
    resp = await owner.client.put("/api/v1/car/mode", data=b'{"mode": "smart", "x": NaN}',
                                  headers={"X-CSRF-Token": owner.csrf, "Content-Type": "application/json"})
    assert resp.status == 400 and "non-finite" in (await resp.json())["error"]
    assert agent.changes == []


async def test_non_api_404_has_security_headers(client):
    for path in ("/no-such-page", "/static/missing.js", "/api/v1/nothing"):
        resp = await client.get(path)
        assert resp.status in (401, 404)
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], path
        assert resp.headers["X-Frame-Options"] == "DENY", path
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path


async def test_health_without_login_is_minimal(client, agent):
    agent.devices["pv"].update(online=False, last_error="timeout after 3 s at 192.168.1.40")
    body = await (await client.get("/api/v1/health")).json()
    assert body["status"] == "degraded" and body["problems"]
    text = str(body)
    assert "devices" not in body and "192.168" not in text and "timeout" not in text
    for name in agent.devices:
        assert f"'{name}:" not in text


async def test_health_with_login_has_the_details(owner, agent):
    agent.devices["pv"].update(online=False, last_error="timeout after 3 s")
    body = await (await owner.get("/api/v1/health")).json()
    assert set(body["devices"]) == set(agent.devices)
    assert any("timeout" in p for p in body["problems"])


def test_admin_lock_survives_a_spray_of_failed_logins_from_many_addresses():
    lim = LoginLimiter(max_failures=5, window_s=300)
    t = 0.0
    for _ in range(5):
        lim.failed(["ip:203.0.113.9", "user:admin"], t)
        t += 0.1
    assert lim.retry_after_s(["ip:198.51.100.1", "user:admin"], t) > 0
    # the campaign: ~1,700 addresses, 8,500 failed logins with many names, within the window
    for i in range(8_500):
        ip = f"ip:10.{(i % 1700) // 250}.{(i % 1700) % 250}.1"
        lim.failed([ip, f"user:guess{i}"], t)
        t += 0.01
    assert lim.retry_after_s(["ip:198.51.100.1", "user:admin"], t) > 0, "the admin's lock was evicted"
    assert len(lim._failures) <= lim.max_keys
    assert lim.retry_after_s(["user:admin"], t + 301) == 0          # it still ends by itself


def test_limiter_ignores_wall_clock_steps(clock):
    """The limiter runs on monotonic seconds: a wall-clock step back does not prolong a lock."""
    lim = LoginLimiter(max_failures=2, window_s=60)
    for _ in range(2):
        lim.failed(["user:admin"], clock.monotonic())
    clock.step(-3600)
    clock.advance(61)
    assert lim.retry_after_s(["user:admin"], clock.monotonic()) == 0
