"""The owner's notification settings: which events, which channels. Checked field by field; an
error names the field ("email.port") and says what is wrong."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from hems.notify.channels import Channel, Email, Mqtt, Ntfy, Webhook
from hems.notify.message import Kind
from hems.notify.texts import LANGUAGES

OWNER_KINDS = tuple(k for k in Kind if k is not Kind.TEST)
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")
MAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
SECRETS = {"ntfy": ("token",), "email": ("password",), "mqtt": ("password",)}
CHANNEL_KEYS = {"ntfy": {"url", "token"}, "webhook": {"url"},
                "email": {"host", "port", "security", "username", "password", "sender", "to"},
                "mqtt": {"host", "port", "topic", "username", "password"}}
DEFAULT_EVENTS = {Kind.TARGET_UNREACHABLE, Kind.NOT_PLUGGED, Kind.DEVICE_OFFLINE, Kind.UPDATE_AVAILABLE}


class NotifySettingsError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class NotifySettings:
    events: frozenset[Kind] = frozenset(DEFAULT_EVENTS)
    plug_in_by: time = time(21, 0)
    price_spike_per_kwh: float | None = None
    language: str = "en"
    channels: tuple[Channel, ...] = field(default_factory=tuple)


def _str(v: Any, name: str, max_len: int = 200) -> str:
    if not isinstance(v, str) or not v.strip():
        raise NotifySettingsError(name, f"{name} must be text")
    if len(v) > max_len:
        raise NotifySettingsError(name, f"{name} must have at most {max_len} characters")
    return v.strip()


def _url(v: Any, name: str) -> str:
    text = _str(v, name, 500)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotifySettingsError(name, f"{name} must start with http:// or https://, got {text!r}")
    return text


def _host(v: Any, name: str) -> str:
    text = _str(v, name, 253)
    if not HOST_RE.match(text):
        raise NotifySettingsError(name, f"{name} must be a host name or IP address, got {text!r}")
    return text


def _port(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v) or not 1 <= v <= 65535:
        raise NotifySettingsError(name, f"{name} must be a whole number from 1 to 65535")
    return int(v)


def _mail(v: Any, name: str) -> str:
    text = _str(v, name)
    if not MAIL_RE.match(text):
        raise NotifySettingsError(name, f"{name} must be an e-mail address like name@example.com, got {text!r}")
    return text


def _channel(kind: str, raw: Any) -> Channel:
    if not isinstance(raw, dict):
        raise NotifySettingsError(kind, f"{kind} must be an object or null")
    unknown = sorted(set(raw) - CHANNEL_KEYS[kind])
    if unknown:
        raise NotifySettingsError(f"{kind}.{unknown[0]}", f"unknown field {kind}.{unknown[0]}")
    opt = lambda k: _str(raw[k], f"{kind}.{k}") if raw.get(k) not in (None, "") else None  # noqa: E731
    if kind == "ntfy":
        url = _url(raw.get("url"), "ntfy.url")
        if not urlsplit(url).path.strip("/"):
            raise NotifySettingsError("ntfy.url", "ntfy.url must end with the topic, e.g. https://ntfy.sh/my-home-7f3k")
        return Ntfy(url=url, token=opt("token"))
    if kind == "webhook":
        return Webhook(url=_url(raw.get("url"), "webhook.url"))
    if kind == "email":
        security = raw.get("security", "starttls")
        if security not in ("starttls", "ssl", "none"):
            raise NotifySettingsError("email.security", "email.security must be starttls, ssl or none")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        return Email(host=_host(raw.get("host"), "email.host"), port=_port(raw.get("port", default_port), "email.port"),
                     sender=_mail(raw.get("sender"), "email.sender"), to=_mail(raw.get("to"), "email.to"),
                     security=security, username=opt("username"), password=opt("password"))
    topic = _str(raw.get("topic", "hems/notify"), "mqtt.topic")
    if any(c in topic for c in "#+") or topic.startswith("/"):
        raise NotifySettingsError("mqtt.topic", "mqtt.topic may not contain # or + nor start with /")
    return Mqtt(host=_host(raw.get("host"), "mqtt.host"), port=_port(raw.get("port", 1883), "mqtt.port"),
                topic=topic, username=opt("username"), password=opt("password"))


def parse(raw: dict[str, Any]) -> NotifySettings:
    """The stored (or submitted) JSON -> NotifySettings; NotifySettingsError names the bad field."""
    events_raw = raw.get("events", {})
    if not isinstance(events_raw, dict):
        raise NotifySettingsError("events", "events must be an object of true/false")
    events = set()
    for name, on in events_raw.items():
        if name not in {k.value for k in OWNER_KINDS}:
            raise NotifySettingsError("events", f"unknown event {name!r}")
        if not isinstance(on, bool):
            raise NotifySettingsError("events", f"events.{name} must be true or false")
        if on:
            events.add(Kind(name))
    plug = raw.get("plug_in_by", "21:00")
    m = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", plug) if isinstance(plug, str) else None
    if not m:
        raise NotifySettingsError("plug_in_by", f"plug_in_by must be a time HH:MM, got {plug!r}")
    spike = raw.get("price_spike_per_kwh")
    if spike is not None and (isinstance(spike, bool) or not isinstance(spike, (int, float))
                              or not math.isfinite(spike) or not 0 <= spike <= 5):
        raise NotifySettingsError("price_spike_per_kwh", "price_spike_per_kwh must be a number from 0 to 5")
    language = raw.get("language", "en")
    if language not in LANGUAGES:
        raise NotifySettingsError("language", f"language must be one of {', '.join(LANGUAGES)}")
    chans = raw.get("channels", {}) or {}
    if not isinstance(chans, dict):
        raise NotifySettingsError("channels", "channels must be an object")
    unknown = sorted(set(chans) - set(CHANNEL_KEYS))
    if unknown:
        raise NotifySettingsError("channels", f"unknown channel {unknown[0]!r}; known: {', '.join(sorted(CHANNEL_KEYS))}")
    channels = tuple(_channel(k, v) for k, v in sorted(chans.items()) if v is not None)
    return NotifySettings(events=frozenset(events), plug_in_by=time(int(m[1]), int(m[2])),
                          price_spike_per_kwh=None if spike is None else float(spike), language=language,
                          channels=channels)


def keep_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """A secret left empty in the form keeps the saved one (the UI never shows saved secrets)."""
    out = dict(new)
    chans = dict(out.get("channels") or {})
    for kind, keys in SECRETS.items():
        cur, prev = chans.get(kind), ((old.get("channels") or {}).get(kind) or {})
        if isinstance(cur, dict):
            cur = dict(cur)
            for k in keys:
                if not cur.get(k) and prev.get(k):
                    cur[k] = prev[k]
            chans[kind] = cur
    out["channels"] = chans
    return out


def public(raw: dict[str, Any]) -> dict[str, Any]:
    """The stored settings for the UI: secrets replaced by `<name>_set: true`."""
    out = {"events": {k.value: k in parse_or_default(raw).events for k in OWNER_KINDS},
           "plug_in_by": raw.get("plug_in_by", "21:00"), "price_spike_per_kwh": raw.get("price_spike_per_kwh"),
           "language": raw.get("language", "en"), "channels": {}}
    for kind in CHANNEL_KEYS:
        c = (raw.get("channels") or {}).get(kind)
        if c:
            shown = {k: v for k, v in c.items() if k not in SECRETS.get(kind, ())}
            shown.update({f"{k}_set": bool(c.get(k)) for k in SECRETS.get(kind, ())})
            out["channels"][kind] = shown
        else:
            out["channels"][kind] = None
    return out


def parse_or_default(raw: dict[str, Any] | None) -> NotifySettings:
    if not raw:
        return NotifySettings()
    try:
        return parse(raw)
    except NotifySettingsError:
        return NotifySettings()
