"""The owner's live settings, in one place: site limits, tariff prices, weekly schedule,
preferences and aggregator enrolment.

config.toml (the installer's) gives the starting values; the owner's changes are kept in the
store as overrides and win from then on, also after a restart. Site limits may only lower the
installer's (main fuse, import and export limits), never raise them. Every consumer (the safety
clamp, the planner, the envelope, arbitration, the aggregator link) reads the current value from
here, through the agent. The aggregator enrolment is read once when the link starts, so a change
to it needs a restart (`Applied.restart_needed`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields, replace
from datetime import datetime, time
from typing import Any, Protocol

from hems.config import Config
from hems.config.model import AggregatorConfig, TariffConfig
from hems.domain import EvSession, Mode, Preferences

log = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PREFIX = "settings."
SCHEDULE_KEY = "car.schedule"
TARIFF_FIELDS = ("import_price_per_kwh", "export_price_per_kwh", "import_markup_per_kwh")
AGGREGATOR_FIELDS = ("enabled", "host", "port", "site_id", "payment_per_kwh")

Weekly = dict[int, tuple[time, float]]       # weekday (0 = Monday) -> (local departure, target %)


class SettingRefused(ValueError):
    """A change the owner may not make; `field` names the setting, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SiteLimits:
    """What the site may draw and send (the owner's, at most the installer's)."""
    main_fuse_a: float            # per phase
    max_import_w: float
    max_export_w: float           # positive magnitude


@dataclass(frozen=True)
class Applied:
    """The answer to a settings change: the section's values now, and whether they wait for a restart."""
    section: str
    values: dict[str, Any]
    restart_needed: bool = False


@dataclass(frozen=True)
class SettingsView:
    """A snapshot of every live setting, for the edges to show."""
    site: SiteLimits
    installer_site: SiteLimits    # the ceiling from config.toml
    tariff: TariffConfig
    aggregator: dict[str, Any]    # the enrolment the link will use at the next start
    overrides: dict[str, dict[str, Any]]   # section -> what the owner changed
    weekly: Weekly
    preferences: Preferences
    restart_needed: bool          # a change waits for a restart


class SettingsStore(Protocol):
    """Where the settings persist (hems.store.Store)."""
    def get_setting(self, key: str, default: Any = None) -> Any: ...
    def put_setting(self, key: str, value: Any, now: datetime, who: str) -> None: ...
    def get_preferences(self) -> dict[str, Any]: ...
    def set_preferences(self, values: dict[str, Any], who: str) -> None: ...
    def add_event(self, kind: str, message: str, who: str = "agent") -> None: ...


def installer_weekly(config: Config) -> Weekly:
    return {day: (config.ev.departure_for(day).departure, config.ev.departure_for(day).target_soc_pct)
            for day in range(7)}


class OwnerSettings:
    """The one owner of the live settings. `store` None keeps changes in memory only."""

    def __init__(self, config: Config, store: SettingsStore | None = None,
                 weekly: Weekly | None = None, preferences: Preferences | None = None) -> None:
        site = config.site
        self._installer_site = SiteLimits(float(site.main_fuse_a), float(site.max_import_w),
                                          float(site.max_export_w))
        self._installer_tariff = config.tariff
        self._installer_aggregator = config.aggregator
        self._store = store
        self._over = {s: dict(self._load(PREFIX + s, {}) or {}) for s in ("site", "tariff", "aggregator")}
        self._over["site"] = self._lowered(self._over["site"])
        saved = self._load(SCHEDULE_KEY, None)
        self._weekly = weekly_from_json(saved) if saved is not None else \
            dict(weekly if weekly is not None else installer_weekly(config))
        default = preferences or Preferences(mode=Mode.SMART, reserve_pct=config.ev.reserve_pct)
        self._prefs = self._load_preferences(default)
        self._aggregator_at_start = self.aggregator_values()
        self._tariff = self._effective_tariff()

    # --- reads ------------------------------------------------------------------------------
    @property
    def site(self) -> SiteLimits:
        return replace(self._installer_site, **self._over["site"])

    @property
    def installer_site(self) -> SiteLimits:
        return self._installer_site

    @property
    def tariff(self) -> TariffConfig:
        return self._tariff

    @property
    def weekly(self) -> Weekly:
        return dict(self._weekly)

    @property
    def preferences(self) -> Preferences:
        return self._prefs

    def aggregator_values(self) -> dict[str, Any]:
        base = self._installer_aggregator
        values = {name: getattr(base, name, None) for name in AGGREGATOR_FIELDS}
        values.update(self._over["aggregator"])
        return values

    def aggregator(self) -> AggregatorConfig | None:
        """The enrolment for the link (config.toml's [aggregator] with the owner's changes)."""
        base = self._installer_aggregator
        if base is None:
            return None
        known = {f.name for f in fields(base)}
        return replace(base, **{k: v for k, v in self._over["aggregator"].items() if k in known})

    def view(self) -> SettingsView:
        return SettingsView(site=self.site, installer_site=self._installer_site, tariff=self._tariff,
                            aggregator=self.aggregator_values(),
                            overrides={k: dict(v) for k, v in self._over.items()},
                            weekly=self.weekly, preferences=self._prefs,
                            restart_needed=self.aggregator_values() != self._aggregator_at_start)

    # --- changes ----------------------------------------------------------------------------
    def set_site(self, changes: dict[str, float], now: datetime, who: str) -> Applied:
        clean = {}
        for name, value in changes.items():
            ceiling = getattr(self._installer_site, name, None)
            if ceiling is None:
                raise SettingRefused(name, f"no site setting {name!r}")
            clean[name] = _finite(name, value)
            if clean[name] < 0:
                raise SettingRefused(name, f"{name} must not be negative")
            if clean[name] > ceiling:
                raise SettingRefused(name, f"{name} may not exceed the installer's {ceiling:g} "
                                           "(config.toml); the owner may only lower it")
        self._save("site", clean, now, who)
        return Applied("site", {f.name: getattr(self.site, f.name) for f in fields(SiteLimits)})

    def set_tariff(self, changes: dict[str, float], now: datetime, who: str) -> Applied:
        for name in changes:
            if name not in TARIFF_FIELDS:
                raise SettingRefused(name, f"no tariff setting {name!r}")
        self._save("tariff", {k: _finite(k, v) for k, v in changes.items()}, now, who)
        self._tariff = self._effective_tariff()
        return Applied("tariff", {k: getattr(self._tariff, k) for k in TARIFF_FIELDS})

    def set_aggregator(self, changes: dict[str, Any], now: datetime, who: str) -> Applied:
        for name in changes:
            if name not in AGGREGATOR_FIELDS:
                raise SettingRefused(name, f"no aggregator setting {name!r}")
        merged = {**self.aggregator_values(), **changes}
        if merged.get("enabled"):
            for needed in ("host", "site_id"):
                if not merged.get(needed):
                    raise SettingRefused(needed, f"to enrol with an aggregator, set {needed} too")
        self._save("aggregator", changes, now, who)
        values = self.aggregator_values()
        return Applied("aggregator", values, restart_needed=values != self._aggregator_at_start)

    def set_weekly(self, weekly: Weekly, now: datetime, who: str) -> None:
        self._weekly = dict(weekly)
        if self._store is not None:
            self._store.put_setting(SCHEDULE_KEY, weekly_to_json(weekly), now, who)

    def set_preferences(self, prefs: Preferences, who: str) -> None:
        old, self._prefs = self._prefs, prefs
        log.info("preferences changed by %s: %s -> %s", who, old, prefs)
        if self._store is not None:
            doc = prefs_to_json(prefs)
            self._store.set_preferences(doc, who=who)
            self._store.add_event("preferences", f"{who} set {doc}", who=who)

    # --- internals --------------------------------------------------------------------------
    def _save(self, section: str, clean: dict[str, Any], now: datetime, who: str) -> None:
        """Stored first: a change the disk refused is not in force either."""
        merged = {**self._over[section], **clean}
        if self._store is not None:
            self._store.put_setting(PREFIX + section, merged, now, who)
        self._over[section] = merged

    def _lowered(self, saved: dict[str, Any]) -> dict[str, float]:
        """Saved site limits, each at most the installer's (config.toml may have been lowered since)."""
        out = {}
        for name, value in saved.items():
            ceiling = getattr(self._installer_site, name, None)
            if ceiling is None or not isinstance(value, (int, float)) or not math.isfinite(value):
                log.warning("ignoring the saved site setting %s = %r", name, value)
                continue
            if value > ceiling:
                log.warning("the saved %s (%g) is above the installer's %g: using %g", name, value,
                            ceiling, ceiling)
            out[name] = min(float(value), ceiling)
        return out

    def _effective_tariff(self) -> TariffConfig:
        known = {f.name for f in fields(TariffConfig)}
        return replace(self._installer_tariff,
                       **{k: v for k, v in self._over["tariff"].items() if k in known and k in TARIFF_FIELDS})

    def _load(self, key: str, default: Any) -> Any:
        if self._store is None:
            return default
        try:
            return self._store.get_setting(key, default)
        except Exception as exc:
            log.warning("saved setting %s unreadable, using the config's: %s", key, exc)
            return default

    def _load_preferences(self, default: Preferences) -> Preferences:
        if self._store is None:
            return default
        try:
            stored = self._store.get_preferences()
            return prefs_from_json(stored, default) if stored else default
        except Exception as exc:
            log.warning("stored preferences unreadable, using defaults: %s", exc)
            return default


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingRefused(name, f"{name} must be a finite number, got {value!r}")
    return float(value)


def weekly_to_json(weekly: Weekly) -> dict[str, Any]:
    """{weekday: (local time, target %)} -> {"mon": {"departure": "HH:MM", "target_soc_pct"} | None, ...}"""
    return {day: ({"departure": weekly[i][0].strftime("%H:%M"), "target_soc_pct": float(weekly[i][1])}
                  if i in weekly else None) for i, day in enumerate(DAYS)}


def weekly_from_json(schedule: dict[str, Any]) -> Weekly:
    out: Weekly = {}
    for i, day in enumerate(DAYS):
        entry = schedule.get(day)
        if entry:
            hh, mm = entry["departure"].split(":")
            out[i] = (time(int(hh), int(mm)), float(entry["target_soc_pct"]))
    return out


def prefs_to_json(p: Preferences) -> dict[str, Any]:
    trip = p.next_trip
    return {"mode": p.mode.value, "reserve_pct": p.reserve_pct,
            "next_trip": None if trip is None else
            {"departure": trip.departure.isoformat(), "target_soc_pct": trip.target_soc_pct}}


def prefs_from_json(d: dict[str, Any], default: Preferences) -> Preferences:
    trip = d.get("next_trip")
    return Preferences(
        mode=Mode(d.get("mode", default.mode.value)),
        reserve_pct=float(d.get("reserve_pct", default.reserve_pct)),
        next_trip=None if not trip else EvSession(datetime.fromisoformat(trip["departure"]),
                                                  float(trip["target_soc_pct"])),
    )
