"""The ways to reach the owner without a cloud: ntfy, e-mail (SMTP), MQTT (Home Assistant), a webhook.

Each channel has `name` and `async send(notification)`; a failure raises ChannelError with a
message that says what went wrong (the server's answer, a refused login, a timeout).
"""
from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from hems.notify.message import Kind, Notification

TIMEOUT_S = 10.0
NTFY_PRIORITY = {Kind.TARGET_UNREACHABLE: 4, Kind.DEVICE_OFFLINE: 4, Kind.NOT_PLUGGED: 4, Kind.PRICE_SPIKE: 3,
                 Kind.AGGREGATOR_EVENT: 3, Kind.UPDATE_AVAILABLE: 2, Kind.TEST: 3}
NTFY_TAGS = {Kind.TARGET_UNREACHABLE: "warning", Kind.DEVICE_OFFLINE: "rotating_light", Kind.NOT_PLUGGED: "electric_plug",
             Kind.PRICE_SPIKE: "chart_with_upwards_trend", Kind.AGGREGATOR_EVENT: "zap",
             Kind.UPDATE_AVAILABLE: "package", Kind.TEST: "white_check_mark"}


class ChannelError(Exception):
    """A notification that did not go out, and why."""


class Channel(Protocol):
    name: str

    async def send(self, n: Notification) -> None: ...


async def _post_json(url: str, body: dict, headers: dict[str, str] | None = None) -> None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as s:
            async with s.post(url, json=body, headers=headers or {}) as resp:
                if resp.status >= 300:
                    text = (await resp.text())[:200]
                    raise ChannelError(f"{url} answered {resp.status}: {text}")
    except aiohttp.ClientError as exc:
        raise ChannelError(f"cannot reach {url}: {exc}") from None
    except asyncio.TimeoutError:
        raise ChannelError(f"{url} did not answer within {TIMEOUT_S:g} s") from None


@dataclass(frozen=True)
class Ntfy:
    """ntfy (self-hosted or public), by the topic's URL, e.g. https://ntfy.sh/my-home-7f3k.
    Published as JSON to the server's root so titles in any language arrive intact."""
    url: str
    token: str | None = None
    name: str = "ntfy"

    def split(self) -> tuple[str, str]:
        parts = urlsplit(self.url)
        topic = parts.path.rstrip("/").rsplit("/", 1)[-1]
        return urlunsplit((parts.scheme, parts.netloc, "/", "", "")), topic

    async def send(self, n: Notification) -> None:
        root, topic = self.split()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        await _post_json(root, {"topic": topic, "title": n.title, "message": n.message,
                                "priority": NTFY_PRIORITY[n.kind], "tags": [NTFY_TAGS[n.kind]]}, headers)


@dataclass(frozen=True)
class Webhook:
    """POSTs {"kind", "title", "message", "at"} as JSON to the owner's URL."""
    url: str
    name: str = "webhook"

    async def send(self, n: Notification) -> None:
        await _post_json(self.url, n.as_json())


@dataclass(frozen=True)
class Email:
    """E-mail through the owner's SMTP server (STARTTLS, SSL/TLS, or plain inside the home)."""
    host: str
    port: int
    sender: str
    to: str
    security: str = "starttls"      # starttls | ssl | none
    username: str | None = None
    password: str | None = None
    name: str = "email"

    def message(self, n: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"hems: {n.title}"
        msg["From"] = self.sender
        msg["To"] = self.to
        msg.set_content(f"{n.message}\n\n-- hems")
        return msg

    def _send_blocking(self, msg: EmailMessage) -> None:
        ctx = ssl.create_default_context()
        try:
            if self.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_S, context=ctx)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=ctx)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError:
            raise ChannelError(f"the mail server {self.host} refused the user name or password") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelError(f"the mail server {self.host} does not offer {exc}: choose another encryption") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"cannot send mail through {self.host}:{self.port}: {exc}") from None

    async def send(self, n: Notification) -> None:
        await asyncio.to_thread(self._send_blocking, self.message(n))


@dataclass(frozen=True)
class Mqtt:
    """Publishes the notification as JSON on a topic (for Home Assistant automations), QoS 1."""
    host: str
    port: int = 1883
    topic: str = "hems/notify"
    username: str | None = None
    password: str | None = None
    name: str = "mqtt"

    def _publish_blocking(self, payload: str) -> None:
        import paho.mqtt.client as paho

        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", protocol=paho.MQTTv311)
        if self.username:
            client.username_pw_set(self.username, self.password)
        try:
            rc = client.connect(self.host, self.port, keepalive=30)
            if rc != 0:
                raise ChannelError(f"the MQTT broker {self.host}:{self.port} refused the connection ({rc})")
            client.loop_start()
            info = client.publish(self.topic, payload, qos=1)
            info.wait_for_publish(timeout=TIMEOUT_S)
            if not info.is_published():
                raise ChannelError(f"the MQTT broker {self.host}:{self.port} did not confirm the message")
        except OSError as exc:
            raise ChannelError(f"cannot reach the MQTT broker {self.host}:{self.port}: {exc}") from None
        finally:
            client.loop_stop()
            client.disconnect()

    async def send(self, n: Notification) -> None:
        await asyncio.to_thread(self._publish_blocking, json.dumps(n.as_json()))
