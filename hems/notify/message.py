"""What hems tells the owner: the kinds of event and one notification."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Kind(str, Enum):
    TARGET_UNREACHABLE = "target_unreachable"   # the car cannot reach the trip's charge in time
    NOT_PLUGGED = "not_plugged"                 # the car is not plugged in by the owner's time
    DEVICE_OFFLINE = "device_offline"           # charger, meter or inverter stopped answering
    AGGREGATOR_EVENT = "aggregator_event"       # an aggregator event was accepted
    PRICE_SPIKE = "price_spike"                 # the import price goes above the owner's limit
    UPDATE_AVAILABLE = "update_available"       # a newer hems is available
    TEST = "test"                               # the owner's "send a test" button


@dataclass(frozen=True)
class Notification:
    kind: Kind
    title: str
    message: str
    at: datetime                 # aware UTC
    key: str = ""                # what it is about (a device, a trip): repeats are suppressed per key

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "title": self.title, "message": self.message,
                "at": self.at.isoformat().replace("+00:00", "Z")}
