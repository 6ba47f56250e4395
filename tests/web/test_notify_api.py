"""Notification settings over the API and the watcher in the web app: what the agent reports
reaches the owner's ntfy server (a local one speaking ntfy's JSON publish format)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hems.domain import ChargerState, Commitment
from tests.notify.conftest import ntfy_server, smtp_server  # noqa: F401 (fixtures)


async def test_settings_round_trip_without_showing_secrets(owner, ntfy_server):  # noqa: F811
    body = {"events": {"device_offline": True, "price_spike": False}, "plug_in_by": "20:30", "language": "de",
            "price_spike_per_kwh": 0.45, "channels": {"ntfy": {"url": f"{ntfy_server.url}/home", "token": "tk_1"}}}
    resp = await owner.put("/api/v1/notify", body)
    assert resp.status == 200, await resp.text()
    shown = await (await owner.get("/api/v1/notify")).json()
    assert shown["channels"]["ntfy"] == {"url": f"{ntfy_server.url}/home", "token_set": True}
    assert shown["events"]["device_offline"] is True and shown["events"]["price_spike"] is False
    # saving again without the token keeps it
    body["channels"]["ntfy"] = {"url": f"{ntfy_server.url}/home"}
    assert (await owner.put("/api/v1/notify", body)).status == 200
    result = await (await owner.post("/api/v1/notify/test", {})).json()
    assert result == {"results": {"ntfy": "ok"}}
    req = await ntfy_server.next()
    assert req["auth"] == "Bearer tk_1" and req["json"]["title"] == "Test" and "Dies ist ein Test" in req["json"]["message"]
    audit = await (await owner.get("/api/v1/audit")).json()
    assert audit["entries"][0]["action"] == "settings_notify" and "tk_1" not in str(audit)


@pytest.mark.parametrize("body, field", [
    ({"channels": {"ntfy": {"url": "ntfy.sh/topic"}}}, "ntfy.url"),
    ({"channels": {"email": {"host": "mail example", "sender": "a@b.example", "to": "c@d.example"}}}, "email.host"),
    ({"plug_in_by": "9pm"}, "plug_in_by"),
    ({"price_spike_per_kwh": -1}, "price_spike_per_kwh"),
])
async def test_bad_settings_are_refused_naming_the_field(owner, body, field):
    resp = await owner.put("/api/v1/notify", body)
    assert resp.status == 422
    assert (await resp.json())["field"] == field


async def test_notify_needs_the_owner(client):
    assert (await client.get("/api/v1/notify")).status == 401
    assert (await client.post("/api/v1/notify/test", json={})).status == 401


async def test_a_device_going_offline_reaches_ntfy_once(owner, agent, ntfy_server):  # noqa: F811
    await owner.put("/api/v1/notify", {"events": {"device_offline": True}, "language": "en",
                                       "channels": {"ntfy": {"url": f"{ntfy_server.url}/home"}}})
    agent.devices["charger"] = {**agent.devices["charger"], "online": False, "last_error": "timeout"}
    await agent.set_state(agent.state)
    req = await ntfy_server.next()
    assert req["json"]["topic"] == "home" and req["json"]["title"] == "Device not answering"
    assert req["json"]["message"].startswith("The car charger does not answer")
    assert len(ntfy_server.requests) == 1


async def test_an_accepted_aggregator_event_is_announced(owner, agent, ntfy_server):  # noqa: F811
    await owner.put("/api/v1/notify", {"events": {"aggregator_event": True}, "language": "fr",
                                       "channels": {"ntfy": {"url": f"{ntfy_server.url}/home"}}})
    start = agent.now.replace(hour=16, minute=0)                 # 18:00 in Amsterdam
    c = Commitment("evt-7", start, start + timedelta(hours=2), min_ev_w=-6000.0, max_ev_w=-3000.0)
    await agent.resume(c, regulation=False)
    await agent._publish("event", {"kind": "commitment", "id": "evt-7"})
    req = await ntfy_server.next()
    assert req["json"]["message"].startswith("De 18:00 à 20:00")


async def test_a_missing_car_at_the_owners_time_is_reported(owner, agent, ntfy_server):  # noqa: F811
    await owner.put("/api/v1/notify", {"events": {"not_plugged": True}, "plug_in_by": "12:00",
                                       "channels": {"ntfy": {"url": f"{ntfy_server.url}/home"}}})
    state = agent.state                                          # T0 is 12:00 in Amsterdam
    await agent.set_state(replace(state, charger=replace(state.charger, state=ChargerState.NO_CAR, ev_power_w=0.0)))
    req = await ntfy_server.next()
    assert req["json"]["title"] == "Car not plugged in"
