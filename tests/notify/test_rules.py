"""The rules are pure: a snapshot in, alerts out, each once while its condition holds."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from hems.notify import Kind, NotifySettingsError, Snapshot, Watcher, parse
from hems.notify.settings import keep_secrets, public

TZ = ZoneInfo("Europe/Amsterdam")
ALL = {k: True for k in ("target_unreachable", "not_plugged", "device_offline", "aggregator_event",
                         "price_spike", "update_available")}


def snap(hh: int, mm: int = 0, **kw) -> Snapshot:
    local = datetime(2026, 6, 15, hh, mm, tzinfo=TZ)
    return Snapshot(at=local.astimezone(timezone.utc), local_now=local, **kw)


def test_a_device_going_offline_is_reported_once_and_again_after_it_came_back():
    w, s = Watcher(), parse({"events": ALL})
    assert [a.kind for a in w.check(snap(10, offline=(("wallbox", "charger"),)), s)] == [Kind.DEVICE_OFFLINE]
    assert w.check(snap(10, 1, offline=(("wallbox", "charger"),)), s) == []
    assert w.check(snap(10, 2), s) == []
    assert len(w.check(snap(10, 3, offline=(("wallbox", "charger"),)), s)) == 1


def test_not_plugged_only_after_the_owners_time_and_once_a_day():
    w, s = Watcher(), parse({"events": ALL, "plug_in_by": "21:00"})
    assert w.check(snap(20, 59, plugged=False), s) == []
    [a] = w.check(snap(21, 0, plugged=False), s)
    assert a.kind is Kind.NOT_PLUGGED and a.values == {"time": "21:00"}
    assert w.check(snap(21, 30, plugged=False), s) == []
    assert w.check(snap(21, 31, plugged=True), s) == []


def test_target_shortfall_and_price_spike():
    w, s = Watcher(), parse({"events": ALL, "price_spike_per_kwh": 0.4})
    dep = datetime(2026, 6, 16, 7, 30, tzinfo=TZ)
    alerts = w.check(snap(22, shortfall_pct=12.4, target_pct=80.0, departure_local=dep, import_price_per_kwh=0.41), s)
    by_kind = {a.kind: a for a in alerts}
    assert by_kind[Kind.TARGET_UNREACHABLE].values == {"target": "80 %", "departure": "07:30", "short": "12 %"}
    assert by_kind[Kind.PRICE_SPIKE].values == {"price": "0.41", "limit": "0.40"}
    assert w.check(snap(22, 5, shortfall_pct=0.2, departure_local=dep, import_price_per_kwh=0.39), s) == []


def test_events_the_owner_did_not_choose_stay_silent():
    w, s = Watcher(), parse({"events": {"device_offline": False, "not_plugged": True}})
    assert w.check(snap(10, offline=(("meter", "meter"),)), s) == []


@pytest.mark.parametrize("raw, field", [
    ({"channels": {"ntfy": {"url": "ftp://ntfy.example/topic"}}}, "ntfy.url"),
    ({"channels": {"ntfy": {"url": "https://ntfy.sh/"}}}, "ntfy.url"),
    ({"channels": {"email": {"host": "mail.example", "port": 70000, "sender": "a@b.example", "to": "c@d.example"}}}, "email.port"),
    ({"channels": {"email": {"host": "mail.example", "sender": "not-an-address", "to": "c@d.example"}}}, "email.sender"),
    ({"channels": {"mqtt": {"host": "broker.lan", "topic": "hems/#"}}}, "mqtt.topic"),
    ({"channels": {"webhook": {"url": "https://x.example/h", "secret": "y"}}}, "webhook.secret"),
    ({"channels": {"pigeon": {}}}, "channels"),
    ({"plug_in_by": "25:00"}, "plug_in_by"),
    ({"price_spike_per_kwh": float("nan")}, "price_spike_per_kwh"),
    ({"events": {"coffee_ready": True}}, "events"),
    ({"language": "xx"}, "language"),
])
def test_bad_settings_name_the_field(raw, field):
    with pytest.raises(NotifySettingsError) as err:
        parse(raw)
    assert err.value.field == field


def test_saved_secrets_are_kept_and_never_shown():
    old = {"channels": {"email": {"host": "mail.example", "sender": "a@b.example", "to": "c@d.example",
                                  "password": "s3cret"}}}
    new = keep_secrets({"channels": {"email": {"host": "mail.example", "sender": "a@b.example", "to": "c@d.example"}}}, old)
    assert new["channels"]["email"]["password"] == "s3cret"
    shown = public(new)
    assert "password" not in shown["channels"]["email"] and shown["channels"]["email"]["password_set"] is True
    assert parse(new).plug_in_by == time(21, 0)
