"""Charging profiles as hems sends them, built by pure functions (no I/O, no clock reads).

hems keeps two TxDefaultProfiles on the charger's connector/EVSE:
  - FALLBACK (id 1, stack level 0, no end): the limit the charger keeps if hems goes silent;
  - SETPOINT (id 2, stack level 1, valid only `validity_s`): the current hems setpoint.
The higher stack level wins while it is valid; when hems stops refreshing it, it expires and the
charger falls back on its own (the OCPP form of a communication timeout). On 2.1 the setpoint
profile also carries maxOfflineDuration, so it lapses when the connection drops.

Times are in the charger's own clock (hems time + its measured offset), so a charger whose clock
is off still sees a profile that is valid now and ends `validity_s` from now.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from hems.devices.ocpp.readings import ocpp_time

FALLBACK_ID, SETPOINT_ID = 1, 2
PURPOSE = "TxDefaultProfile"


@dataclass(frozen=True)
class Electrical:
    """How a W setpoint becomes the charger's unit."""
    phases: int                  # 1 or 3
    voltage_v: float             # phase-to-neutral
    rate_unit: str = "A"         # "A" (per phase) or "W" (total)

    def to_rate(self, power_w: float) -> float:
        """Signed W -> the charger's unit, to one decimal (as OCPP 1.6 wants) towards zero, so
        the charger never gets more than was asked."""
        value = power_w / (self.phases * self.voltage_v) if self.rate_unit == "A" else power_w
        return math.trunc(round(value * 10, 6)) / 10

    def to_w(self, rate: float) -> float:
        return rate * self.phases * self.voltage_v if self.rate_unit == "A" else rate


@dataclass(frozen=True)
class Limit:
    """One profile to send: W signed (+ charge, - discharge), and its validity."""
    profile_id: int
    power_w: float
    valid_from: datetime | None = None        # charger time; None: from now on
    valid_to: datetime | None = None          # charger time; None: no end

    @property
    def stack_level(self) -> int:
        return 0 if self.profile_id == FALLBACK_ID else 1


def setpoint_limit(power_w: float, charger_now: datetime, validity_s: float) -> Limit:
    """The short-lived setpoint profile: valid from a little before now (clock jitter) for
    `validity_s` seconds."""
    return Limit(SETPOINT_ID, power_w, charger_now - timedelta(seconds=5),
                 charger_now + timedelta(seconds=validity_s))


def fallback_limit(current_a: float, el: Electrical) -> Limit:
    return Limit(FALLBACK_ID, current_a * el.phases * el.voltage_v)


def _validity(limit: Limit) -> dict:
    out = {}
    if limit.valid_from is not None:
        out["valid_from"] = ocpp_time(limit.valid_from)
    if limit.valid_to is not None:
        out["valid_to"] = ocpp_time(limit.valid_to)
    return out


def _period(limit: Limit, el: Electrical) -> dict:
    return {"start_period": 0, "limit": max(0.0, el.to_rate(limit.power_w)), "number_phases": el.phases}


def profile_16(limit: Limit, el: Electrical) -> dict:
    """csChargingProfiles of a 1.6 SetChargingProfile (snake_case, as the library takes it)."""
    schedule = {"charging_rate_unit": el.rate_unit, "charging_schedule_period": [_period(limit, el)]}
    if limit.valid_from is not None:
        schedule["start_schedule"] = ocpp_time(limit.valid_from)
    return {"charging_profile_id": limit.profile_id, "stack_level": limit.stack_level,
            "charging_profile_purpose": PURPOSE,
            "charging_profile_kind": "Absolute" if limit.valid_from else "Relative",
            "charging_schedule": schedule, **_validity(limit)}


def profile_2x(limit: Limit, el: Electrical, *, v2x: bool = False,
               offline_s: float | None = None) -> dict:
    """chargingProfile of a 2.0.1 / 2.1 SetChargingProfile. With `v2x` (2.1, a charger and car
    that can discharge) the period is a CentralSetpoint: setpoint signed, limit >= 0,
    dischargeLimit <= 0, so a negative power discharges."""
    if v2x:
        rate = el.to_rate(limit.power_w)
        period = {"start_period": 0, "operation_mode": "CentralSetpoint", "setpoint": rate,
                  "limit": max(0.0, rate), "discharge_limit": min(0.0, rate),
                  "number_phases": el.phases}
    else:
        period = _period(limit, el)
    schedule = {"id": limit.profile_id, "charging_rate_unit": el.rate_unit,
                "charging_schedule_period": [period]}
    if limit.valid_from is not None:
        schedule["start_schedule"] = ocpp_time(limit.valid_from)
    profile = {"id": limit.profile_id, "stack_level": limit.stack_level,
               "charging_profile_purpose": PURPOSE,
               "charging_profile_kind": "Absolute" if limit.valid_from else "Relative",
               "charging_schedule": [schedule], **_validity(limit)}
    if offline_s is not None and limit.profile_id == SETPOINT_ID:
        profile["max_offline_duration"] = int(offline_s)
        profile["invalid_after_offline_duration"] = True
    return profile
