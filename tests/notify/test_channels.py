"""Each channel against a local server that speaks the real protocol."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timezone

import pytest

from hems.notify import ChannelError, Email, Kind, Mqtt, Notifier, Ntfy, Webhook, parse

AT = datetime(2026, 6, 15, 19, 5, tzinfo=timezone.utc)


def notifier(language: str = "en", channels: dict | None = None) -> Notifier:
    return Notifier(parse({"language": language, "channels": channels or {}}))


async def test_ntfy_gets_the_topic_title_and_message_as_json(ntfy_server):
    n = notifier("de").build(Kind.NOT_PLUGGED, AT, "2026-06-15", time="21:05")
    await Ntfy(url=f"{ntfy_server.url}/mein-haus-7f3k", token="tk_abc").send(n)
    [req] = ntfy_server.requests
    assert req["path"] == "/" and req["auth"] == "Bearer tk_abc"
    body = req["json"]
    assert body["topic"] == "mein-haus-7f3k"
    assert body["title"] == "Auto nicht eingesteckt"           # umlauts intact (JSON, not a header)
    assert "21:05" in body["message"] and body["priority"] == 4 and body["tags"] == ["electric_plug"]


async def test_ntfy_refusal_names_the_server_answer(ntfy_server):
    ntfy_server.status = 401
    with pytest.raises(ChannelError, match="answered 401.*unauthorized"):
        await Ntfy(url=f"{ntfy_server.url}/topic").send(notifier().build(Kind.TEST, AT))


async def test_email_arrives_with_subject_and_text(smtp_server):
    ch = Email(host=smtp_server.host, port=smtp_server.port, sender="hems@home.example", to="owner@example.org",
               security="none", username="hems", password="s3cret-mail")
    await ch.send(notifier("fr").build(Kind.DEVICE_OFFLINE, AT, "charger", device="La borne de recharge"))
    [msg] = smtp_server.messages
    assert msg["To"] == "owner@example.org" and msg["From"] == "hems@home.example"
    assert "Un appareil ne répond pas" in str(msg["Subject"]) or "=?utf-8?" in str(msg["Subject"]).lower()
    assert "La borne de recharge ne répond pas" in msg.get_payload(decode=True).decode()
    assert smtp_server.logins == [("hems", "ok")]


async def test_email_wrong_password_is_a_clear_error(smtp_server):
    ch = Email(host=smtp_server.host, port=smtp_server.port, sender="hems@home.example", to="owner@example.org",
               security="none", username="hems", password="wrong")
    with pytest.raises(ChannelError, match="refused the user name or password"):
        await ch.send(notifier().build(Kind.TEST, AT))
    assert smtp_server.messages == []


async def test_email_starttls_on_a_server_without_it_says_so(smtp_server):
    ch = Email(host=smtp_server.host, port=smtp_server.port, sender="a@b.example", to="c@d.example", security="starttls")
    with pytest.raises(ChannelError, match="does not offer"):
        await ch.send(notifier().build(Kind.TEST, AT))


async def test_webhook_posts_the_notification_json(webhook_server):
    await Webhook(url=webhook_server.url).send(notifier("nl").build(Kind.PRICE_SPIKE, AT, "price", price="0.52", limit="0.40"))
    [req] = webhook_server.requests
    assert req["json"] == {"kind": "price_spike", "title": "Stroom is nu duur",
                           "message": "De prijs is 0.52 per kWh, boven je grens van 0.40.", "at": "2026-06-15T19:05:00Z"}


async def test_mqtt_publishes_for_home_assistant(mosquitto):
    import paho.mqtt.client as paho

    host, port = mosquitto
    got: list[dict] = []
    subscribed, arrived = threading.Event(), threading.Event()
    sub = paho.Client(paho.CallbackAPIVersion.VERSION2)
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("home/hems/notify", qos=1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, m: (got.append(json.loads(m.payload)), arrived.set())
    sub.connect(host, port)
    sub.loop_start()
    try:
        assert await asyncio.to_thread(subscribed.wait, 10)
        await Mqtt(host=host, port=port, topic="home/hems/notify").send(
            notifier().build(Kind.AGGREGATOR_EVENT, AT, "evt-1", start="18:00", end="20:00"))
        assert await asyncio.to_thread(arrived.wait, 10)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert got[0]["kind"] == "aggregator_event" and "From 18:00 to 20:00" in got[0]["message"]


async def test_mqtt_broker_down_is_a_clear_error():
    from tests.conftest import free_port
    with pytest.raises(ChannelError, match="cannot reach the MQTT broker"):
        await Mqtt(host="127.0.0.1", port=free_port()).send(notifier().build(Kind.TEST, AT))


async def test_notifier_sends_on_all_channels_and_one_failure_spares_the_others(ntfy_server, smtp_server, caplog):
    n = notifier("en", {
        "ntfy": {"url": f"{ntfy_server.url}/home"},
        "email": {"host": smtp_server.host, "port": smtp_server.port, "security": "none",
                  "sender": "hems@home.example", "to": "owner@example.org"},
        "webhook": {"url": "http://127.0.0.1:9/nothing-listens-here"},
    })
    results = await n.send(n.build(Kind.TEST, AT))
    assert results["ntfy"] == "ok" and results["email"] == "ok"
    assert "cannot reach" in results["webhook"]
    assert len(ntfy_server.requests) == 1 and len(smtp_server.messages) == 1
    await n.send(n.build(Kind.TEST, AT))                      # the failing channel is logged once
    assert sum("webhook failed" in r.message for r in caplog.records) == 1
