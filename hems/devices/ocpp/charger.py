"""An OCPP charge point's connector/EVSE as a hems BidiCharger (with the Heartbeat capability).

Readings come from what the charger pushed (StatusNotification, MeterValues, TransactionEvent,
NotifyEVChargingNeeds); a setpoint is a SetChargingProfile that the charger must accept, valid
for `validity_s` only. `refresh_heartbeat()` re-sends it before it lapses, so if hems dies the
charger falls back by itself to the FALLBACK profile (`fallback_current_a`, never discharging).
"""
from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hems.devices.ocpp.profiles import Electrical, Limit, fallback_limit, setpoint_limit
from hems.devices.ocpp.readings import STATUS_16, PointState, reading
from hems.devices.ocpp.session import OnceLog
from hems.devices.ports import DeviceError
from hems.domain import ChargerReading
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger("hems.devices.ocpp")

MAX_SETPOINT_W = 50_000.0


class Session(Protocol):
    """What the charger needs of a connected protocol session (any version)."""
    version: str
    last_message_at: datetime | None

    def charger_now(self) -> datetime: ...
    def can_discharge(self) -> bool: ...
    async def send_limit(self, limit: Limit) -> None: ...


@dataclass
class Identity:
    """What the charge point said of itself in BootNotification."""
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None


class OcppCharger:
    """One configured charger (`transport = "ocpp"`): a charge point id and its connector/EVSE."""

    def __init__(self, name: str, charge_point_id: str, server, *, connector: int = 1,
                 electrical: Electrical, validity_s: float = 60.0, fallback_current_a: float = 6.0,
                 meter_stale_s: float = 60.0, password: str | None = None,
                 clock: Clock | None = None) -> None:
        self.name = name
        self.charge_point_id = charge_point_id
        self.server = server
        self.connector = connector
        self.electrical = electrical
        self.validity_s = float(validity_s)
        self.fallback_current_a = float(fallback_current_a)
        self.meter_stale_s = meter_stale_s
        self.password = password
        self.clock = clock or SystemClock()
        self.point = PointState(status_map=STATUS_16)
        self.identity = Identity()
        self.session: Session | None = None
        self.last_setpoint_w: float | None = None
        self._sent_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.detached = asyncio.Event()          # set while no session is connected
        self.detached.set()
        self.session_once = OnceLog(f"{name} ({charge_point_id}): ")

    # --- Device ---------------------------------------------------------------------------
    async def connect(self) -> None:
        """Start the shared OCPP server (once for every charger); the charger dials in."""
        await self.server.acquire(self)

    async def close(self) -> None:
        await self.server.release(self)

    def describe(self) -> str:
        version = self.session.version if self.session else "not connected"
        return f"{self.name} (OCPP {self.charge_point_id}, {version})"

    # --- session events (called by the session) -------------------------------------------
    def attach(self, session: Session) -> None:
        self.session = session
        self.detached.clear()

    def detach(self, session: Session) -> None:
        if self.session is session:
            self.session = None
            self._sent_at = None      # re-send the setpoint after the charger is back
            self.detached.set()

    async def on_ready(self) -> None:
        """After an accepted boot (or a reconnect): the fallback profile, then the setpoint."""
        session = self.session
        if session is None:
            return
        try:
            await session.send_limit(fallback_limit(self.fallback_current_a, self.electrical))
            if self.last_setpoint_w is not None:
                await self._send(self.last_setpoint_w if self.last_setpoint_w >= 0 or
                                 session.can_discharge() else 0.0)
        except DeviceError as exc:
            if self.session is session:      # not worth a warning when the charger just left
                log.warning("%s: could not set up charging profiles: %s", self.name, exc)

    # --- BidiCharger ----------------------------------------------------------------------
    async def read(self) -> ChargerReading:
        await self.server.acquire(self)
        session = self.session
        if session is None:
            raise DeviceError(f"{self.name}: charge point {self.charge_point_id} is not connected")
        if self.point.status is None:
            raise DeviceError(f"{self.name}: no StatusNotification from {self.charge_point_id} yet")
        now = self.clock.now()
        at = self.point.measured_at
        if self.point.car_present() and (at is None or (now - at).total_seconds() > self.meter_stale_s):
            raise DeviceError(f"{self.name}: no meter values from {self.charge_point_id} for "
                              f"{self.meter_stale_s:g} s while a car is connected")
        if not session.can_discharge():
            self.point.max_discharge_w = 0.0
        return reading(self.point, now)

    async def write_power(self, ev_power_w: float) -> None:
        if not isinstance(ev_power_w, (int, float)) or not math.isfinite(ev_power_w) \
                or abs(ev_power_w) > MAX_SETPOINT_W:
            raise DeviceError(f"{self.name}: setpoint {ev_power_w!r} W refused "
                              f"(a finite number within +/-{MAX_SETPOINT_W:g} W expected)")
        await self.server.acquire(self)
        session = self.session
        if session is None and ev_power_w == 0.0:
            self.last_setpoint_w = 0.0      # sent when the charger connects (after the fallback)
            return
        if session is None:
            raise DeviceError(f"{self.name}: charge point {self.charge_point_id} is not connected")
        if ev_power_w < 0 and not session.can_discharge():
            raise DeviceError(f"{self.name}: {ev_power_w:.0f} W refused: this charger and car cannot "
                              f"discharge (OCPP {session.version})")
        await self._send(float(ev_power_w))

    async def _send(self, power_w: float) -> None:
        session = self.session
        if session is None:
            raise DeviceError(f"{self.name}: charge point {self.charge_point_id} is not connected")
        async with self._lock:
            limit = setpoint_limit(power_w, session.charger_now(), self.validity_s)
            await session.send_limit(limit)
            self.last_setpoint_w = power_w
            self._sent_at = self.clock.now()
            self.point.setpoint_w = power_w

    # --- Heartbeat ------------------------------------------------------------------------
    async def refresh_heartbeat(self) -> None:
        """Renew the setpoint profile before a third of its validity is left."""
        if self.session is None or self.last_setpoint_w is None:
            return
        if self._sent_at is not None:
            age_s = (self.clock.now() - self._sent_at).total_seconds()
            if 0 <= age_s < self.validity_s / 3:
                return
        await self.write_power(self.last_setpoint_w if self.last_setpoint_w >= 0
                               or self.session.can_discharge() else 0.0)

    # --- status ---------------------------------------------------------------------------
    def status(self) -> dict:
        s = self.session
        return {
            "name": self.name, "charge_point_id": self.charge_point_id, "connected": s is not None,
            "protocol": s.version if s else None, "vendor": self.identity.vendor,
            "model": self.identity.model, "firmware": self.identity.firmware,
            "last_message": s.last_message_at.isoformat() if s and s.last_message_at else None,
            "status": self.point.status, "setpoint_w": self.point.setpoint_w,
            "can_discharge": bool(s and s.can_discharge()),
        }
