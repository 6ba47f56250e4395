"""What the agent needs from devices, as small Protocols. Units in names; hems signs.

Drivers convert the device's own units and signs once; the loop never sees a register.
Optional capabilities are separate Protocols, checked with isinstance at wiring time.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from hems.domain import ChargerReading, MeterReading, PvReading


class DeviceError(Exception):
    """A device did not answer, answered garbage, or refused a request. The message says which."""


@runtime_checkable
class Device(Protocol):
    name: str

    async def connect(self) -> None: ...
    async def close(self) -> None: ...


@runtime_checkable
class Meter(Device, Protocol):
    async def read(self) -> MeterReading: ...


@runtime_checkable
class PvInverter(Device, Protocol):
    async def read(self) -> PvReading: ...


@runtime_checkable
class BidiCharger(Device, Protocol):
    async def read(self) -> ChargerReading: ...
    async def write_power(self, ev_power_w: float) -> None:
        """Signed setpoint: + charge, - discharge, 0 idle."""


@runtime_checkable
class Heartbeat(Protocol):
    """The charger falls back on its own after `timeout_s` without a refresh."""
    async def refresh_heartbeat(self) -> None: ...


@runtime_checkable
class Curtailable(Protocol):
    async def write_limit_pct(self, limit_pct: float | None) -> None:
        """Limit PV output to a % of its rating; None lifts the limit."""


@runtime_checkable
class FrequencySource(Device, Protocol):
    async def read_frequency_hz(self) -> float:
        """Mains frequency in Hz (mHz resolution); DeviceError when unknown."""


@runtime_checkable
class FrequencyResponse(Protocol):
    """Runs a fast frequency response (droop) on its own, with the settings it is given."""
    async def set_droop(self, droop: Any) -> None: ...
