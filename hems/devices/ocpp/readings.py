"""What one charge point told hems, and the pure conversions to hems units and signs.

`PointState` is filled by the protocol sessions (1.6J, 2.0.1, 2.1) from BootNotification,
StatusNotification, MeterValues, TransactionEvent and NotifyEVChargingNeeds; `reading()` turns
it into a ChargerReading. Powers W (+ = charging the car), energies Wh, SoC %, aware UTC times.
Every number from a charger passes `finite()`: NaN, Infinity and non-numbers are refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hems.domain import ChargerReading, ChargerState, ChargingNeeds

MOVING_W = 50.0          # |power| above which a connected car counts as (dis)charging

# StatusNotification (1.6 `status`, 2.x `connectorStatus`) -> hems state, before the power sign
STATUS_16 = {
    "Available": ChargerState.NO_CAR, "Preparing": ChargerState.CONNECTED,
    "Charging": ChargerState.CHARGING, "SuspendedEV": ChargerState.CONNECTED,
    "SuspendedEVSE": ChargerState.CONNECTED, "Finishing": ChargerState.CONNECTED,
    "Reserved": ChargerState.NO_CAR, "Unavailable": ChargerState.FAULT,
    "Faulted": ChargerState.FAULT,
}
STATUS_2X = {
    "Available": ChargerState.NO_CAR, "Occupied": ChargerState.CONNECTED,
    "Reserved": ChargerState.NO_CAR, "Unavailable": ChargerState.FAULT,
    "Faulted": ChargerState.FAULT,
}
BIDIRECTIONAL_MODES = ("AC_BPT", "AC_BPT_DER", "DC_BPT", "DC_ACDP_BPT")


class BadValue(ValueError):
    """A charger sent a value hems cannot use; the message says which."""


def finite(value: object, what: str) -> float:
    """A finite float from a JSON number or numeric string (1.6 sends strings)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadValue(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise BadValue(f"{what}: {value!r} is not a finite number")
    return number


def parse_time(text: object, what: str) -> datetime:
    """An OCPP dateTime (RFC 3339) as an aware UTC datetime; no zone means UTC."""
    if not isinstance(text, str):
        raise BadValue(f"{what}: {text!r} is not a date-time")
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadValue(f"{what}: {text!r} is not an RFC 3339 date-time") from None
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def ocpp_time(at: datetime) -> str:
    """An aware datetime as OCPP wants it: UTC, milliseconds, 'Z'."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass
class Measured:
    """Meter values of one sample, in hems units (absent = None)."""
    import_w: float | None = None
    export_w: float | None = None
    energy_import_wh: float | None = None
    energy_export_wh: float | None = None
    soc_pct: float | None = None
    current_a: dict[str, float] = field(default_factory=dict)     # "L1".. -> A
    offered_w: float | None = None


_SCALE = {"W": 1.0, "kW": 1000.0, "Wh": 1.0, "kWh": 1000.0, "A": 1.0, "Percent": 1.0, "%": 1.0}


def sampled_values(samples: list, version: str) -> Measured:
    """MeterValue list (snake_case keys, as the library hands them) -> one Measured.

    Values in kW/kWh are scaled to W/Wh; 1.6 sends values as strings. Only the outlet or
    unspecified location counts (an EV-side or inlet value is not the charger's power)."""
    m = Measured()
    for mv in samples if isinstance(samples, list) else []:
        for sv in (mv.get("sampled_value") or []) if isinstance(mv, dict) else []:
            if not isinstance(sv, dict):
                continue
            measurand = sv.get("measurand", "Energy.Active.Import.Register")
            unit = sv.get("unit") or (sv.get("unit_of_measure") or {}).get("unit")
            mult = (sv.get("unit_of_measure") or {}).get("multiplier", 0)
            if sv.get("location") not in (None, "Outlet", "EV"):
                continue
            value = finite(sv.get("value"), f"{measurand} value") * _SCALE.get(unit or "", 1.0) \
                * 10 ** finite(mult, "multiplier")
            phase = sv.get("phase")
            if measurand == "Power.Active.Import" and phase is None:
                m.import_w = value
            elif measurand == "Power.Active.Export" and phase is None:
                m.export_w = value
            elif measurand == "Energy.Active.Import.Register" and phase is None:
                m.energy_import_wh = value
            elif measurand == "Energy.Active.Export.Register" and phase is None:
                m.energy_export_wh = value
            elif measurand == "SoC":
                m.soc_pct = value if 0.0 <= value <= 100.0 else None
            elif measurand == "Current.Import" and phase:
                m.current_a[str(phase)[:2]] = value
            elif measurand == "Power.Offered" and phase is None:
                m.offered_w = value
    return m


def charging_needs(raw: dict, at: datetime) -> ChargingNeeds:
    """NotifyEVChargingNeeds' chargingNeeds (snake_case) -> ChargingNeeds. Raises BadValue."""
    if not isinstance(raw, dict):
        raise BadValue("charging_needs is not an object")
    departure = parse_time(raw["departure_time"], "departureTime") if raw.get("departure_time") else None
    ac = raw.get("ac_charging_parameters") or {}
    dc = raw.get("dc_charging_parameters") or {}
    v2x = raw.get("v2x_charging_parameters") or {}
    energy = ac.get("energy_amount", dc.get("energy_amount", v2x.get("ev_target_energy_request")))
    target = v2x.get("target_soc", v2x.get("target_so_c", dc.get("full_soc")))
    capacity = dc.get("ev_energy_capacity")
    modes = [raw.get("requested_energy_transfer")] + list(raw.get("available_energy_transfer") or [])
    return ChargingNeeds(
        at=at, departure=departure,
        energy_wh=finite(energy, "energyAmount") if energy is not None else None,
        target_soc_pct=_pct(target, "targetSoC"),
        capacity_wh=finite(capacity, "evEnergyCapacity") if capacity is not None else None,
        bidirectional=any(m in BIDIRECTIONAL_MODES for m in modes))


def _pct(value: object, what: str) -> float | None:
    if value is None:
        return None
    pct = finite(value, what)
    if not 0.0 <= pct <= 100.0:
        raise BadValue(f"{what}: {value!r} is not a percentage")
    return pct


@dataclass
class PointState:
    """Everything hems knows of one charge point's connector/EVSE, kept by its session."""
    status: str | None = None                 # last StatusNotification status
    status_map: dict = field(default_factory=lambda: STATUS_16)
    charging_state: str | None = None         # 2.x TransactionEvent chargingState
    transaction_id: str | None = None
    measured: Measured = field(default_factory=Measured)
    measured_at: datetime | None = None
    soc_pct: float | None = None
    soc_at: datetime | None = None
    needs: ChargingNeeds | None = None
    max_discharge_w: float = 0.0              # > 0 only when the charger and car can discharge
    max_charge_w: float | None = None
    fault: str | None = None                  # error code of the last StatusNotification
    setpoint_w: float | None = None           # the last limit the charger accepted

    def car_present(self) -> bool:
        return self.status_map.get(self.status or "", ChargerState.UNKNOWN) in (
            ChargerState.CONNECTED, ChargerState.CHARGING, ChargerState.DISCHARGING)

    def ev_power_w(self) -> float:
        m = self.measured
        if m.import_w is None and m.export_w is None:
            return 0.0
        return (m.import_w or 0.0) - (m.export_w or 0.0)

    def forget_car(self) -> None:
        """The car left: its SoC, needs and discharge ability go with it."""
        self.soc_pct = self.soc_at = self.needs = self.max_charge_w = None
        self.max_discharge_w = 0.0
        self.transaction_id = self.charging_state = None
        self.measured = Measured()


def reading(point: PointState, at: datetime) -> ChargerReading:
    """The hems reading of a connector now. Pure."""
    power_w = point.ev_power_w()
    state = point.status_map.get(point.status or "", ChargerState.UNKNOWN)
    if state in (ChargerState.CONNECTED, ChargerState.CHARGING, ChargerState.DISCHARGING):
        state = ChargerState.CHARGING if power_w > MOVING_W else \
            ChargerState.DISCHARGING if power_w < -MOVING_W else ChargerState.CONNECTED
    fault = None
    if state is ChargerState.FAULT:
        fault = f"charger reports {point.status} ({point.fault or 'no error code'})"
    plugged = state in (ChargerState.CONNECTED, ChargerState.CHARGING, ChargerState.DISCHARGING)
    return ChargerReading(
        at=at, ev_power_w=power_w, state=state, soc_pct=point.soc_pct if plugged else None,
        setpoint_w=point.setpoint_w, max_charge_w=point.max_charge_w,
        max_discharge_w=point.max_discharge_w, fault=fault,
        needs=point.needs if plugged else None)
