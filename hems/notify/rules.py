"""When to tell the owner: pure checks on a snapshot of what hems knows, edge-triggered.

A condition raises one notification when it becomes true and is re-armed when it is false again,
so a charger that stays offline for a day is reported once, not every second.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from hems.notify.message import Kind
from hems.notify.settings import NotifySettings

SHORTFALL_MIN_PCT = 0.5
NOT_PLUGGED_WINDOW = timedelta(hours=3)     # after the owner's time, how long the check runs


@dataclass(frozen=True)
class Snapshot:
    at: datetime                                  # aware UTC
    local_now: datetime                           # the same instant in the site's time zone
    plugged: bool | None = None
    offline: tuple[tuple[str, str], ...] = ()     # (device name, role) that stopped answering
    shortfall_pct: float | None = None            # the plan's missing charge at departure
    target_pct: float | None = None
    departure_local: datetime | None = None
    import_price_per_kwh: float | None = None
    update_version: str | None = None


@dataclass(frozen=True)
class Alert:
    kind: Kind
    key: str
    values: dict[str, str] = field(default_factory=dict)


class Watcher:
    """Turns snapshots into alerts, each once while its condition holds."""

    def __init__(self) -> None:
        self.active: set[tuple[Kind, str]] = set()

    def check(self, snap: Snapshot, settings: NotifySettings, fmt_price: str = "{:.2f}") -> list[Alert]:
        now_true: dict[tuple[Kind, str], dict[str, str]] = {}
        for name, role in snap.offline:
            now_true[(Kind.DEVICE_OFFLINE, name)] = {"device": name, "role": role}
        if snap.shortfall_pct is not None and snap.shortfall_pct > SHORTFALL_MIN_PCT and snap.departure_local:
            now_true[(Kind.TARGET_UNREACHABLE, snap.departure_local.isoformat())] = {
                "target": f"{snap.target_pct:.0f} %" if snap.target_pct is not None else "",
                "departure": f"{snap.departure_local:%H:%M}", "short": f"{snap.shortfall_pct:.0f} %"}
        if snap.plugged is False and _in_window(snap.local_now, settings.plug_in_by):
            now_true[(Kind.NOT_PLUGGED, snap.local_now.date().isoformat())] = {"time": f"{snap.local_now:%H:%M}"}
        limit = settings.price_spike_per_kwh
        if limit is not None and snap.import_price_per_kwh is not None and snap.import_price_per_kwh > limit:
            now_true[(Kind.PRICE_SPIKE, "price")] = {"price": fmt_price.format(snap.import_price_per_kwh),
                                                     "limit": fmt_price.format(limit)}
        if snap.update_version:
            now_true[(Kind.UPDATE_AVAILABLE, snap.update_version)] = {"version": snap.update_version}
        fresh = [Alert(kind, key, values) for (kind, key), values in now_true.items() if (kind, key) not in self.active]
        self.active = set(now_true)
        return [a for a in fresh if a.kind in settings.events]


def _in_window(local_now: datetime, by: time) -> bool:
    start = local_now.replace(hour=by.hour, minute=by.minute, second=0, microsecond=0)
    return start <= local_now < start + NOT_PLUGGED_WINDOW
