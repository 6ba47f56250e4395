"""A simulated Wallbox Quasar (1): bidirectional DC charger, Modbus TCP, holding registers, int16.

Register map and behaviour per Wallbox's Quasar Modbus register list as V2G Liberty ships it
(see hems/devices/README.md, Sources):

| reg | meaning |
|---|---|
| 1 | firmware version (read-only) |
| 2, 3 | serial number, high and low word (read-only) |
| 81 (0x51)  | control: 0 user, 1 remote. Setpoints and actions only take effect in remote |
| 82 (0x52)  | start charging/discharging on connect (1 = yes, the default) |
| 83 (0x53)  | setpoint type: 0 current (258), 1 power (260) |
| 88 (0x58)  | Modbus idle timeout, s (0 = off): with no request for that long the charger leaves remote control and stops |
| 256 (0x100) | lock (0 unlocked, 1 locked) |
| 257 (0x101) | action: 1 start, 2 stop, 3 restart, 4 software update (3 and 4 only stop power here) |
| 258 (0x102) | current setpoint, A, -32..32 (negative = discharge) |
| 260 (0x104) | power setpoint, W, -7400..7400 (negative = discharge) |
| 514 (0x202) | max available power, W (1380..7400, writable) |
| 526 (0x20E) | actual power, W, signed (+ = charging) |
| 537 (0x219) | state, see below |
| 538 (0x21A) | EV state of charge, %; reads 0 when no power flows or no car (not a real value) |
| 539-542 (0x21B-0x21E) | error codes: unrecoverable high, low, recoverable high, low (0 = none) |

States: 0 no car, 1 charging, 2 waiting for car demand, 3 waiting for a schedule (app),
4 paused, 5 end of schedule, 6 no car and locked, 7 error, 8 in queue (Power Sharing),
9 Power Sharing not configured (error), 10 in queue (Power Boost), 11 discharging. This
simulator shows 0, 1, 2, 4, 6, 7 and 11.

Going back to user control (a write of 81 = 0, or the idle timeout) resets 82 to 1 (autostart),
83 to 0 (current) and 88 to 0 (no timeout), as the real charger does. With 82 = 1 a newly
plugged car starts at once: at full power in user control, as the owner's app would; in remote
control by setting the action to start, so the last setpoint resumes. A controller therefore
writes 82 = 0 after taking remote control.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pymodbus.constants import ExcCodes

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.plant import ChargePoint
from hems.devices.sim.registers import decode, encode
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

FIRMWARE, SERIAL_HIGH, SERIAL_LOW = 1, 2, 3
CONTROL, AUTOSTART, SETPOINT_TYPE, IDLE_TIMEOUT = 81, 82, 83, 88
LOCK, ACTION, CURRENT_SETPOINT, POWER_SETPOINT = 256, 257, 258, 260
MAX_POWER, ACTUAL_POWER, STATE, SOC, ERRORS = 514, 526, 537, 538, 539

USER, REMOTE = 0, 1
START, STOP = 1, 2
ST_NO_CAR, ST_CHARGING, ST_WAITING, ST_PAUSED, ST_LOCKED, ST_ERROR, ST_DISCHARGING = 0, 1, 2, 4, 6, 7, 11

_LIMITS = {CONTROL: (0, 1), AUTOSTART: (0, 1), SETPOINT_TYPE: (0, 1), IDLE_TIMEOUT: (0, 32767),
           LOCK: (0, 1), ACTION: (1, 4), CURRENT_SETPOINT: (-32, 32), POWER_SETPOINT: (-7400, 7400),
           CURRENT_SETPOINT + 1: (-32768, 32767),             # reserved, accepted and ignored
           MAX_POWER: (1380, 7400)}


class WallboxQuasar(RegisterDevice):
    def __init__(self, *, plant: ChargePoint | None = None, unit_id: int = 1,
                 clock: Clock | None = None, idle_timeout_s: int = 0,
                 firmware: int = 5130, serial: int = 345_678) -> None:
        super().__init__(unit_id, clock)
        self.plant = plant or ChargePoint()
        h = self.holding
        h.define(FIRMWARE, [firmware & 0xFFFF, (serial >> 16) & 0xFFFF, serial & 0xFFFF])
        h.define(81, [0] * 8, writable=True)                  # 81..88
        h.define(256, [0] * 5, writable=True)                 # 256..260
        h.define(MAX_POWER, [0], writable=True)               # the owner may lower it
        h.define(MAX_POWER + 1, [0] * 28)                     # 515..542
        h.set(AUTOSTART, [1])
        h.set(IDLE_TIMEOUT, [idle_timeout_s])
        h.set(ACTION, [STOP])
        h.set(MAX_POWER, [int(min(7400, self.plant.spec.max_power_w))])
        self.idle_timeouts = 0                                 # how often the idle timeout fired
        self._user_w = 0.0                                     # what user control would do
        self._was_plugged = self.plant.plugged
        self.last_request_at = self.clock.now()
        self.refresh(self.last_request_at)

    # --- register helpers -------------------------------------------------------------
    def _get(self, address: int) -> int:
        return int(decode("int16", self.holding.get(address)))

    def _put(self, address: int, value: float) -> None:
        self.holding.set(address, encode("int16", max(-32767, min(32767, round(value)))))

    @property
    def remote(self) -> bool:
        return self._get(CONTROL) == REMOTE

    @property
    def setpoint_w(self) -> float:
        """The power the charger is asked for now, hems sign (+ = charging)."""
        if not self.remote:
            return self._user_w
        if self._get(ACTION) != START:
            return 0.0
        if self._get(SETPOINT_TYPE) == 1:
            w = float(self._get(POWER_SETPOINT))
        else:
            w = self._get(CURRENT_SETPOINT) * self.plant.spec.voltage_v * self.plant.spec.phases
        cap = float(self._get(MAX_POWER))
        return max(-cap, min(cap, w))

    # --- device behaviour ---------------------------------------------------------------
    def check_write(self, address: int, values: list[int]) -> ExcCodes | None:
        for i, raw in enumerate(values):
            limits = _LIMITS.get(address + i)
            value = decode("int16", [raw])
            if limits is None or not limits[0] <= value <= limits[1]:
                return ExcCodes.ILLEGAL_VALUE
        return None

    def _to_user_control(self) -> None:
        """What the charger resets when control returns to the user."""
        self.holding.set(CONTROL, [USER])
        self.holding.set(AUTOSTART, [1])
        self.holding.set(SETPOINT_TYPE, [0])
        self.holding.set(IDLE_TIMEOUT, [0])
        self._user_w = 0.0

    def after_write(self, address: int, count: int, now: datetime) -> None:
        if address <= CONTROL < address + count and not self.remote:
            self._to_user_control()

    def _check_idle(self, now: datetime) -> None:
        timeout_s = self._get(IDLE_TIMEOUT)
        if timeout_s <= 0 or not self.remote:
            return
        if (now - self.last_request_at).total_seconds() >= timeout_s:
            self._to_user_control()
            self.holding.set(ACTION, [STOP])
            self.idle_timeouts += 1
            log.info("unit %d: no Modbus request for %d s, left remote control and stopped",
                     self.unit_id, timeout_s)

    def advance(self, now: datetime) -> None:
        self._check_idle(now)
        plugged = self.plant.plugged
        if plugged and not self._was_plugged and self._get(AUTOSTART) == 1:
            if self.remote:
                self.holding.set(ACTION, [START])             # the last setpoint resumes
            else:
                self._user_w = float(self._get(MAX_POWER))
        if not plugged:
            self._user_w = 0.0
        self._was_plugged = plugged
        self.plant.command(self.setpoint_w)
        self.plant.advance(now)

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        p = self.plant
        flowing = abs(p.actual_w) > 0.5
        self._put(ACTUAL_POWER, p.actual_w)
        soc = p.reported_soc_pct
        self._put(SOC, soc if (flowing and soc is not None) else 0)
        if p.fault:
            state = ST_ERROR
        elif not p.plugged:
            state = ST_LOCKED if self._get(LOCK) == 1 else ST_NO_CAR
        elif p.actual_w > 0.5:
            state = ST_CHARGING
        elif p.actual_w < -0.5:
            state = ST_DISCHARGING
        elif self.setpoint_w != 0 and p.allowed_w == 0:
            state = ST_WAITING
        else:
            state = ST_PAUSED
        self._put(STATE, state)
        self._put(ERRORS + 3, 1 if p.fault else 0)             # a recoverable error code
