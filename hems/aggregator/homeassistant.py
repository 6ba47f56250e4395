"""Home Assistant MQTT discovery: the main sensors and the owner's controls appear by themselves.

Sensors read the telemetry topic; availability follows the status topic (and so the last will).
Controls (mode, reserve) publish plain values to {base}/ha/set/<name>; they only change the
owner's preferences, never aggregator commitments, and the safety rules still apply.
"""
from __future__ import annotations

import json
from typing import Any

from hems.aggregator.topics import Topics
from hems.domain import Mode

DISCOVERY_PREFIX = "homeassistant"

SENSORS = [
    # key, name, unit, device_class, state_class
    ("pv_w", "PV power", "W", "power", "measurement"),
    ("load_w", "House load", "W", "power", "measurement"),
    ("grid_w", "Grid power", "W", "power", "measurement"),
    ("ev_w", "Car power", "W", "power", "measurement"),
    ("soc_pct", "Car state of charge", "%", "battery", "measurement"),
    ("setpoint_w", "Car setpoint", "W", "power", "measurement"),
]


def _device(site_id: str, version: str) -> dict[str, Any]:
    return {"identifiers": [f"hems_{site_id}"], "name": f"hems {site_id}", "manufacturer": "hems",
            "model": "home V2G energy manager", "sw_version": version}


def discovery_messages(topics: Topics, version: str) -> list[tuple[str, bytes]]:
    """(config topic, retained payload) for every entity."""
    site = topics.site_id
    uid = f"hems_{site}"
    common = {"availability_topic": topics.status,
              "availability_template": "{{ value_json.state }}",
              "payload_available": "online", "payload_not_available": "offline",
              "device": _device(site, version)}
    out = []
    for key, name, unit, device_class, state_class in SENSORS:
        cfg = dict(common, name=name, unique_id=f"{uid}_{key}", state_topic=topics.telemetry,
                   value_template=f"{{{{ value_json.{key} }}}}", unit_of_measurement=unit,
                   device_class=device_class, state_class=state_class)
        out.append((f"{DISCOVERY_PREFIX}/sensor/{uid}/{key}/config", cfg))
    out.append((f"{DISCOVERY_PREFIX}/binary_sensor/{uid}/plugged/config",
                dict(common, name="Car plugged in", unique_id=f"{uid}_plugged", device_class="plug",
                     state_topic=topics.telemetry,
                     value_template="{{ 'ON' if value_json.plugged else 'OFF' }}")))
    out.append((f"{DISCOVERY_PREFIX}/select/{uid}/mode/config",
                dict(common, name="Charging mode", unique_id=f"{uid}_mode",
                     command_topic=f"{topics.ha_command}/mode", options=[m.value for m in Mode],
                     state_topic=f"{topics.base}/ha/state", value_template="{{ value_json.mode }}")))
    out.append((f"{DISCOVERY_PREFIX}/number/{uid}/reserve_pct/config",
                dict(common, name="Car reserve", unique_id=f"{uid}_reserve_pct",
                     command_topic=f"{topics.ha_command}/reserve_pct", min=0, max=80, step=5,
                     unit_of_measurement="%", state_topic=f"{topics.base}/ha/state",
                     value_template="{{ value_json.reserve_pct }}")))
    return [(t, json.dumps(c, separators=(",", ":")).encode()) for t, c in out]


def parse_command(topics: Topics, topic: str, payload: bytes) -> tuple[str, Any]:
    """('mode', Mode) or ('reserve_pct', float); ValueError with the reason otherwise."""
    name = topic[len(topics.ha_command) + 1:] if topic.startswith(topics.ha_command + "/") else ""
    text = payload.decode("utf-8", errors="replace").strip()[:32]
    if name == "mode":
        try:
            return name, Mode(text)
        except ValueError:
            raise ValueError(f"mode {text!r} is not one of {[m.value for m in Mode]}") from None
    if name == "reserve_pct":
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"reserve_pct {text!r} is not a number") from None
        if not 0 <= value <= 80:
            raise ValueError(f"reserve_pct {value:g} is outside 0..80 %")
        return name, value
    raise ValueError(f"unknown Home Assistant command topic {topic!r}")
