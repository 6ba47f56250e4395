"""A simulated charge point's charging profiles: what is installed and what applies now. Pure.

Like a real station: profiles of one purpose stack by level, the highest level valid now wins
(validFrom <= now < validTo, and on 2.1 not past maxOfflineDuration while offline); within it the
last period whose startPeriod has passed applies. With no valid profile the station charges at
its own default. Profiles arrive as the `ocpp` library hands them (snake_case dicts), 1.6
(`cs_charging_profiles`) or 2.x (`charging_profile`) shaped. Powers W, + = charging the car.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


class ProfileError(ValueError):
    """A profile the station refuses; the message says why."""


@dataclass(frozen=True)
class Period:
    start_s: float
    limit: float | None               # in the schedule's unit, >= 0
    setpoint: float | None            # 2.1 CentralSetpoint, signed
    discharge_limit: float | None     # 2.1, <= 0
    phases: int | None


@dataclass(frozen=True)
class Installed:
    profile_id: int
    stack_level: int
    purpose: str
    unit: str                         # "A" or "W"
    periods: tuple[Period, ...]
    start: datetime | None            # startSchedule; None = from installation
    installed_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    max_offline_s: float | None       # 2.1 maxOfflineDuration with invalidAfterOfflineDuration

    def valid(self, now: datetime, offline_since: datetime | None) -> bool:
        if self.valid_from is not None and now < self.valid_from:
            return False
        if self.valid_to is not None and now >= self.valid_to:
            return False
        if self.max_offline_s is not None and offline_since is not None:
            return (now - offline_since).total_seconds() < self.max_offline_s
        return True

    def period_at(self, now: datetime) -> Period:
        elapsed = (now - (self.start or self.installed_at)).total_seconds()
        current = self.periods[0]
        for p in self.periods:
            if p.start_s <= elapsed:
                current = p
        return current


def _time(text: object) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise ProfileError(f"{text!r} is not a date-time")
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _num(value: object, what: str) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ProfileError(f"{what} {value!r} is not finite")
    return number


def parse_profile(raw: dict, now: datetime, *, v2x: bool) -> Installed:
    """A profile as received (1.6 or 2.x) -> Installed. Raises ProfileError to reject it."""
    schedule = raw["charging_schedule"]
    if isinstance(schedule, list):
        if len(schedule) != 1:
            raise ProfileError("one charging schedule expected")
        schedule = schedule[0]
    periods = []
    for p in schedule["charging_schedule_period"]:
        mode = p.get("operation_mode")
        if mode not in (None, "ChargingOnly", "CentralSetpoint"):
            raise ProfileError(f"operation mode {mode} not supported")
        if mode == "CentralSetpoint" and not v2x:
            raise ProfileError("this station cannot discharge (no V2X)")
        periods.append(Period(float(p["start_period"]), _num(p.get("limit"), "limit"),
                              _num(p.get("setpoint"), "setpoint") if mode == "CentralSetpoint" else None,
                              _num(p.get("discharge_limit"), "dischargeLimit"), p.get("number_phases")))
    if not periods or any(p.limit is not None and p.limit < 0 for p in periods):
        raise ProfileError("a period with a negative limit")
    max_offline = raw.get("max_offline_duration") if raw.get("invalid_after_offline_duration") else None
    return Installed(
        profile_id=int(raw.get("charging_profile_id", raw.get("id", 0))),
        stack_level=int(raw["stack_level"]), purpose=raw["charging_profile_purpose"],
        unit=schedule["charging_rate_unit"], periods=tuple(periods),
        start=_time(schedule.get("start_schedule")), installed_at=now,
        valid_from=_time(raw.get("valid_from")), valid_to=_time(raw.get("valid_to")),
        max_offline_s=float(max_offline) if max_offline is not None else None)


class Schedule:
    """The installed TxDefault/Tx profiles of one connector."""

    def __init__(self, phases: int, voltage_v: float, default_w: float) -> None:
        self.phases, self.voltage_v, self.default_w = phases, voltage_v, default_w
        self.profiles: dict[int, Installed] = {}
        self.offline_since: datetime | None = None

    def install(self, profile: Installed) -> None:
        for pid, other in list(self.profiles.items()):   # same level and purpose: replaced
            if other.stack_level == profile.stack_level and other.purpose == profile.purpose:
                del self.profiles[pid]
        self.profiles[profile.profile_id] = profile

    def clear(self, profile_id: int | None = None) -> None:
        if profile_id is None:
            self.profiles.clear()
        else:
            self.profiles.pop(profile_id, None)

    def active(self, now: datetime) -> Installed | None:
        valid = [p for p in self.profiles.values() if p.valid(now, self.offline_since)]
        return max(valid, key=lambda p: p.stack_level) if valid else None

    def power_w(self, now: datetime) -> float:
        """What the station lets flow now: a setpoint (signed) or a charging limit."""
        profile = self.active(now)
        if profile is None:
            return self.default_w
        p = profile.period_at(now)
        phases = p.phases or self.phases

        def w(rate: float) -> float:
            return rate * phases * self.voltage_v if profile.unit == "A" else rate
        if p.setpoint is not None:
            lo = w(p.discharge_limit) if p.discharge_limit is not None else -math.inf
            hi = w(p.limit) if p.limit is not None else math.inf
            return max(lo, min(hi, w(p.setpoint)))
        return w(p.limit) if p.limit is not None else self.default_w

    def next_change(self, now: datetime) -> datetime | None:
        """The next moment a profile starts or ends (to re-evaluate then)."""
        times = []
        for p in self.profiles.values():
            times += [t for t in (p.valid_from, p.valid_to) if t is not None and t > now]
            if p.max_offline_s is not None and self.offline_since is not None:
                t = self.offline_since + timedelta(seconds=p.max_offline_s)
                if t > now:
                    times.append(t)
        return min(times) if times else None
