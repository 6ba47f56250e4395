"""Car API: trips, mode, reserve, charge now, weekly schedule -- and every bad input as a clear 4xx."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from hems.domain import Mode


async def test_set_trip_hhmm_is_next_local_time_and_replans(owner, agent):
    replans = agent.replans
    resp = await owner.put("/api/v1/car/trip", {"departure": "07:30", "target_soc_pct": 80})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    # Monday 12:00 Amsterdam (UTC+2 in June): next 07:30 local is Tuesday 05:30 UTC
    assert body["next_trip"] == {"departure": "2026-06-16T05:30:00Z", "target_soc_pct": 80.0}
    assert body["next_trip_source"] == "one-off"
    prefs, who = agent.changes[-1]
    assert who == "admin" and prefs.next_trip.target_soc_pct == 80.0
    assert agent.replans > replans
    plan = (await (await owner.get("/api/v1/plan")).json())["plan"]
    assert plan["soc_pct"][-1] == 80.0


async def test_set_trip_iso_with_offset(owner, agent):
    resp = await owner.put("/api/v1/car/trip", {"departure": "2026-06-16T18:00:00+02:00", "target_soc_pct": 65.5})
    assert resp.status == 200
    assert agent.preferences.next_trip.departure.isoformat() == "2026-06-16T16:00:00+00:00"


async def test_clear_trip_returns_to_schedule(owner, agent):
    await owner.put("/api/v1/car/trip", {"departure": "09:00", "target_soc_pct": 90})
    body = await (await owner.delete("/api/v1/car/trip")).json()
    assert agent.preferences.next_trip is None
    assert body["next_trip_source"] == "schedule" and body["next_trip"]["target_soc_pct"] == 70.0


@pytest.mark.parametrize("body, field, message", [
    ({"departure": "25:00", "target_soc_pct": 80}, "departure", "not a valid time"),
    ({"departure": "7:30", "target_soc_pct": 80}, "departure", "ISO 8601"),
    ({"departure": "2026-06-16T07:30:00", "target_soc_pct": 80}, "departure", "UTC offset"),
    ({"departure": "2026-06-14T07:30:00Z", "target_soc_pct": 80}, "departure", "in the future"),
    ({"departure": "2026-07-16T07:30:00Z", "target_soc_pct": 80}, "departure", "within the next 7 days"),
    ({"departure": 730, "target_soc_pct": 80}, "departure", "must be a string"),
    ({"departure": "07:30", "target_soc_pct": 101}, "target_soc_pct", "between 10 and 100"),
    ({"departure": "07:30", "target_soc_pct": "80"}, "target_soc_pct", "must be a number"),
    ({"departure": "07:30", "target_soc_pct": True}, "target_soc_pct", "must be a number"),
    ({"departure": "07:30", "target_soc_pct": 15}, "target_soc_pct", "below the reserve"),
    ({"departure": "07:30"}, "target_soc_pct", "missing field"),
    ({"departure": "07:30", "target_soc_pct": 80, "soc": 1}, "soc", "unknown field"),
])
async def test_bad_trip_refused(owner, agent, body, field, message):
    resp = await owner.put("/api/v1/car/trip", body)
    data = await resp.json()
    assert resp.status == 422, data
    assert data["field"] == field and message in data["error"], data
    assert agent.changes == []


async def test_nan_target_refused(owner, agent):
    resp = await owner.client.put("/api/v1/car/trip", data=b'{"departure": "07:30", "target_soc_pct": NaN}',
                                  headers={"X-CSRF-Token": owner.csrf, "Content-Type": "application/json"})
    assert resp.status == 422
    assert agent.changes == []


async def test_mode_switch_and_bad_modes(owner, agent):
    for mode in ("solar_only", "off", "fast", "smart"):
        resp = await owner.put("/api/v1/car/mode", {"mode": mode})
        assert resp.status == 200
        assert agent.preferences.mode is Mode(mode)
    for bad in ("turbo", "", None, 3, "SMART"):
        resp = await owner.put("/api/v1/car/mode", {"mode": bad})
        assert resp.status == 422
        assert "mode must be one of" in (await resp.json())["error"]


async def test_charge_now_toggles_and_restores_mode(owner, agent):
    await owner.put("/api/v1/car/mode", {"mode": "solar_only"})
    body = await (await owner.post("/api/v1/car/charge-now", {"on": True})).json()
    assert body["charge_now"] is True and agent.preferences.mode is Mode.FAST
    body = await (await owner.post("/api/v1/car/charge-now", {"on": False})).json()
    assert body["charge_now"] is False and agent.preferences.mode is Mode.SOLAR_ONLY
    resp = await owner.post("/api/v1/car/charge-now", {"on": "yes"})
    assert resp.status == 422 and "true or false" in (await resp.json())["error"]


async def test_reserve_rules(owner, agent):
    assert (await owner.put("/api/v1/car/reserve", {"reserve_pct": 35})).status == 200
    assert agent.preferences.reserve_pct == 35.0
    resp = await owner.put("/api/v1/car/reserve", {"reserve_pct": 95})
    assert resp.status == 422 and "between 0 and 80" in (await resp.json())["error"]
    await owner.put("/api/v1/car/trip", {"departure": "07:30", "target_soc_pct": 50})
    resp = await owner.put("/api/v1/car/reserve", {"reserve_pct": 60})
    assert resp.status == 422 and "above the next trip" in (await resp.json())["error"]


async def test_weekly_schedule_goes_to_agent(owner, agent):
    days = {d: None for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    days["wed"] = {"departure": "06:45", "target_soc_pct": 90}
    resp = await owner.put("/api/v1/car/schedule", {"days": days})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert agent.live_settings().weekly == {2: (time(6, 45), 90.0)}
    assert body["schedule"]["wed"] == {"departure": "06:45", "target_soc_pct": 90.0}
    assert body["next_trip"] == {"departure": "2026-06-17T04:45:00Z", "target_soc_pct": 90.0}


@pytest.mark.parametrize("days, message", [
    ({"monday": None}, "unknown day 'monday'"),
    ({"mon": {"departure": "06:45"}}, "days.mon must be null or"),
    ({"mon": {"departure": "6:45", "target_soc_pct": 80}}, "days.mon.departure must be a time as HH:MM"),
    ({"tue": {"departure": "06:45", "target_soc_pct": 0}}, "days.tue.target_soc_pct must be between"),
    ([1, 2], "days must be an object"),
])
async def test_bad_schedule_refused(owner, agent, days, message):
    before = dict(agent.live_settings().weekly)
    resp = await owner.put("/api/v1/car/schedule", {"days": days})
    assert resp.status == 422
    assert message in (await resp.json())["error"]
    assert agent.live_settings().weekly == before


async def test_unknown_api_path_and_method(owner):
    resp = await owner.get("/api/v1/nothing")
    assert resp.status == 404 and "no API endpoint" in (await resp.json())["error"]
    resp = await owner.post("/api/v1/car/mode", {"mode": "off"})
    assert resp.status == 405


async def test_body_too_large_refused(owner):
    resp = await owner.client.put("/api/v1/car/mode", data=b'{"mode": "' + b"x" * 70_000 + b'"}',
                                  headers={"X-CSRF-Token": owner.csrf, "Content-Type": "application/json"})
    assert resp.status == 413
    assert "error" in await resp.json()


async def test_trip_survives_restart_via_agent_store(owner, agent):
    """The web hands changes to the agent, which stores them; nothing else is needed here."""
    await owner.put("/api/v1/car/trip", {"departure": "07:30", "target_soc_pct": 80})
    assert agent.changes[-1][0].next_trip.departure - agent.now < timedelta(days=1)
