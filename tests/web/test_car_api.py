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
    ({"departure": "2026-06-14T07:30:00Z", "target_soc_pct": 80}, "departure", "Sun 14 Jun 09:30 is in the past"),
    ({"departure": "2026-07-17T07:30:00Z", "target_soc_pct": 80}, "departure", "within the next 31 days"),
    ({"departure": "07:30", "day": "today", "target_soc_pct": 80}, "departure", "Mon 15 Jun 07:30 is in the past"),
    ({"departure": "07:30", "day": "2026-13-01", "target_soc_pct": 80}, "day", "a date YYYY-MM-DD"),
    ({"departure": "07:30", "day": "someday", "target_soc_pct": 80}, "day", "'today', 'tomorrow'"),
    ({"departure": "2026-06-16T07:30:00Z", "day": "today", "target_soc_pct": 80}, "day", "not with a full"),
    ({"departure": "07:30", "target_soc_pct": 80, "energy_wh": -5}, "energy_wh", "between"),
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
    assert resp.status == 400            # NaN is not JSON (RFC 8259): refused by the parser
    assert "non-finite" in (await resp.json())["error"]
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


async def test_the_owner_says_how_full_the_car_is(owner, agent):
    body = await (await owner.get("/api/v1/car")).json()
    assert body["plugged"] and body["soc"]["source"] == "measured"
    resp = await owner.put("/api/v1/car/soc", {"soc_pct": 42})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["soc"]["soc_pct"] == 42.0 and body["soc"]["source"] == "entered"
    assert body["soc"]["error_pct"] > 0 and body["soc"]["low_pct"] < 42.0
    state = await (await owner.get("/api/v1/state")).json()
    assert state["soc_pct"] == 42.0 and state["soc"]["source"] == "entered"


async def test_unknown_level_is_null_in_the_state_never_a_number(owner, agent):
    from dataclasses import replace
    charger = replace(agent.state.charger, soc_pct=None)
    await agent.set_state(replace(agent.state, charger=charger))
    state = await (await owner.get("/api/v1/state")).json()
    assert state["soc_pct"] is None and state["soc"] is None and state["plugged"]


@pytest.mark.parametrize("body, status, message", [
    ({"soc_pct": 120}, 422, "soc_pct"),
    ({"soc_pct": "full"}, 422, "soc_pct"),
    ({"soc": 50}, 400, "soc"),
])
async def test_bad_level_entries_are_refused(owner, body, status, message):
    resp = await owner.put("/api/v1/car/soc", body)
    assert resp.status in (400, 422) and message in (await resp.json())["error"]


async def test_no_level_entry_without_a_car(owner, agent):
    from dataclasses import replace
    from hems.domain import ChargerState
    charger = replace(agent.state.charger, state=ChargerState.NO_CAR, soc_pct=None, ev_power_w=0.0)
    await agent.set_state(replace(agent.state, charger=charger))
    resp = await owner.put("/api/v1/car/soc", {"soc_pct": 50})
    assert resp.status == 409 and "no car is plugged in" in (await resp.json())["error"]


async def test_trip_picker_days_and_the_confirmation(owner, agent):
    # Monday 15 June 2026 12:00 in Amsterdam (UTC+2)
    body = await (await owner.put("/api/v1/car/trip", {"departure": "07:30", "day": "tomorrow",
                                                       "target_soc_pct": 80})).json()
    assert body["next_trip"]["departure"] == "2026-06-16T05:30:00Z"
    assert body["confirmation"].startswith("charges ") and body["confirmation"].endswith("80 % by Tue 07:30")
    body = await (await owner.put("/api/v1/car/trip", {"departure": "18:00", "day": "today",
                                                       "target_soc_pct": 70})).json()
    assert body["next_trip"]["departure"] == "2026-06-15T16:00:00Z"
    resp = await owner.put("/api/v1/car/trip", {"departure": "18:00", "day": "2026-06-20",
                                                "target_soc_pct": 80, "energy_wh": 12000})
    body = await resp.json()
    assert body["preferences"]["next_trip"] == {"departure": "2026-06-20T16:00:00Z", "target_soc_pct": 80.0,
                                                "energy_wh": 12000.0}
    assert body["next_trip"]["departure"] == "2026-06-16T05:00:00Z"      # the weekly Tuesday comes first
    assert "12 kWh added by Sat 18:00" in body["confirmation"]
    assert agent.preferences.next_trip.energy_wh == 12000.0


async def test_confirmation_and_plan_status_follow_the_mode(owner, agent):
    await owner.put("/api/v1/car/trip", {"departure": "07:30", "day": "tomorrow", "target_soc_pct": 80})
    body = await (await owner.put("/api/v1/car/mode", {"mode": "off"})).json()
    assert body["confirmation"].startswith("mode Off: hems will not charge")
    view = await (await owner.get("/api/v1/plan")).json()
    assert view["status"] == {"kind": "paused", "message": "plan paused: mode Off"}
    await owner.put("/api/v1/car/mode", {"mode": "fast"})
    view = await (await owner.get("/api/v1/plan")).json()
    assert view["status"]["kind"] == "fast"
    await owner.put("/api/v1/car/mode", {"mode": "smart"})
    from dataclasses import replace
    from hems.domain import ChargerState
    charger = replace(agent.state.charger, state=ChargerState.NO_CAR, soc_pct=None, ev_power_w=0.0)
    await agent.set_state(replace(agent.state, charger=charger))
    view = await (await owner.get("/api/v1/plan")).json()
    assert view["status"] == {"kind": "away", "message": "car away, plan resumes when it is back"}
    assert view["soc"] is None


async def test_battery_care_is_kept_and_its_wear_shown_in_money(owner, agent):
    body = await (await owner.get("/api/v1/car")).json()
    care = body["battery_care"]
    assert care["soft_max_soc_pct"] is None and care["currency"] == "EUR"
    resp = await owner.put("/api/v1/car/battery-care", {"soft_max_soc_pct": 80, "hours_above_soft_max": 3,
                                                          "degradation_per_kwh": 0.05})
    assert resp.status == 200, await resp.text()
    care = (await resp.json())["battery_care"]
    assert care["soft_max_soc_pct"] == 80 and care["hours_above_soft_max"] == 3
    assert care["degradation_per_kwh"] == 0.05
    assert care["plan_wear_cost"] == pytest.approx(care["plan_cycled_kwh"] * 0.05, abs=0.01)
    prefs = agent.preferences
    assert (prefs.soft_max_soc_pct, prefs.hours_above_soft_max, prefs.degradation_per_kwh) == (80, 3, 0.05)
    resp = await owner.put("/api/v1/car/battery-care", {"soft_max_soc_pct": None})
    assert (await resp.json())["battery_care"]["soft_max_soc_pct"] is None


@pytest.mark.parametrize("body, field", [
    ({"soft_max_soc_pct": 30}, "soft_max_soc_pct"),
    ({"hours_above_soft_max": 48}, "hours_above_soft_max"),
    ({"degradation_per_kwh": -0.1}, "degradation_per_kwh"),
    ({"degradation_per_kwh": "cheap"}, "degradation_per_kwh"),
])
async def test_bad_battery_care_refused(owner, agent, body, field):
    resp = await owner.put("/api/v1/car/battery-care", body)
    data = await resp.json()
    assert resp.status == 422 and data["field"] == field, data
    assert agent.changes == []


async def test_the_cars_iso15118_request_is_offered_never_taken(owner, agent):
    """NotifyEVChargingNeeds (OCPP) on the reading: the Car API offers it; saving it is the owner's."""
    from dataclasses import replace as dc_replace
    from hems.domain import ChargingNeeds
    now = agent.state.at
    leave = now + timedelta(hours=19)
    needs = ChargingNeeds(at=now, departure=leave, energy_wh=18_000.0, target_soc_pct=None, bidirectional=True)
    await agent.set_state(dc_replace(agent.state, charger=dc_replace(agent.state.charger, needs=needs)))
    before = agent.preferences.next_trip
    body = await (await owner.get("/api/v1/car")).json()
    assert body["car_offer"] == {"departure": leave.strftime("%Y-%m-%dT%H:%M:%SZ"), "energy_wh": 18_000.0,
                                 "target_soc_pct": None, "bidirectional": True}
    assert agent.preferences.next_trip == before                    # offered, not taken
    resp = await owner.put("/api/v1/car/trip", {"departure": body["car_offer"]["departure"], "target_soc_pct": 80,
                                                "energy_wh": 18_000})
    assert resp.status == 200
    assert agent.preferences.next_trip.departure == leave and agent.preferences.next_trip.energy_wh == 18_000.0
    past = dc_replace(needs, departure=now - timedelta(minutes=1))
    await agent.set_state(dc_replace(agent.state, charger=dc_replace(agent.state.charger, needs=past)))
    assert (await (await owner.get("/api/v1/car")).json())["car_offer"] is None
