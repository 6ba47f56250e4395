"""Units, the sign convention and the frozen dataclasses every part of hems speaks.

Sign convention (the only one inside hems; each driver converts once):
  grid power   + = import from the grid, - = export
  EV power     + = charging the car,     - = discharging (V2H/V2G)
  PV power     + = generation
  house load   + = consumption
  balance:     grid = load + ev - pv
Times are timezone-aware UTC datetimes.
"""
from hems.domain.model import (
    ChargerReading,
    ChargerState,
    ChargingNeeds,
    Commitment,
    Envelope,
    EvSession,
    MeterReading,
    Mode,
    Plan,
    Preferences,
    PvReading,
    Setpoint,
    SiteState,
    house_load_w,
)

__all__ = [
    "ChargerReading",
    "ChargerState",
    "ChargingNeeds",
    "Commitment",
    "Envelope",
    "EvSession",
    "MeterReading",
    "Mode",
    "Plan",
    "Preferences",
    "PvReading",
    "Setpoint",
    "SiteState",
    "house_load_w",
]
