"""A simulated EVtec BiDiPro 10: bidirectional DC charger, Modbus TCP, one unit, holding registers.

The "ECP4 / Modbus 2.0" map (see hems/devices/README.md, Sources): 100-register objects,
big-endian words, the charge point at 0..43 and connector n at X = n*100 (connectors 1..9; one
is active, the others read 0). The real charger listens on TCP port 5020.

| addr | type | meaning |
|---|---|---|
| 0 | string16 | firmware version |
| 16 | string10 | serial number |
| 26 | string10 | model (contains "crema") |
| 36 | int32 | number of connectors in use (1) |
| 38 | int32 | fallback power, W (writable; what the charger does with it is not public: stored only) |
| 40 | int32 | charge point state: 1 ready, 5 in use (a car on the active connector) |
| 42 | int32 | communication timeout, s (0 = off, max 600): with no request for that long the charger idles (setpoint := 0) |
| X+0 | int32 | connector state, see below |
| X+2 | int32 | CCS session state: 0 ready, 2 plugged in, 16 current demand, 17 grid feed-in |
| X+4 | int32 | session type: 5 bidirectional (discharge allowed) once the session is up, 0 none |
| X+6, X+8 | float32 | DC voltage (nominal 400 V here), current, A |
| X+10 | float32 | power, W (+ = charging, - = discharging) |
| X+12 | int32 | SoC, per mille (0 without a car) |
| X+14 | int32 | connector type: 1 CCS |
| X+18, X+20 | float32 | energy charged, discharged, Wh |
| X+22 | float32 | lower limit potential, W: < 0 when V2G is offered (the discharge floor) |
| X+30 | float32 | upper limit, W (charge ceiling; 0 until the session is up) |
| X+38 | float32 | lower limit, W (charge floor) |
| X+46 | float32 | present consumption, W (the setpoint being delivered) |
| X+54 | uint64 | error bitmask, 0 = none |
| X+58, X+62 | float32 | battery capacity, minimum capacity, Wh (ISO 15118; unreliable on real cars) |
| X+76 | string10 | car id, empty when no car |
| X+86 | int32 | power setpoint, W (negative = discharge); outside [X+22, 0] and [X+38, X+30]: refused |
| X+88 | int32 | suspend mode (accepted, no effect, as on the real charger) |

Connector states (ECP4): 0 boot, 1 ready (no car), 2 unavailable, 3 reserved, 4 contract
authorisation, 5 plugged in, 6 initialise connection, 7 charging, 8 discharging (grid feed-in),
9 session stop, 10 wait for grid (connected, idle), 11 charging end, 12 error. This simulator
shows 1, 5, 6, 7, 8, 10 and 12: with `setup_s > 0` a newly plugged car spends the first half of
it in state 5 and the second in state 6, when the window is closed (only 0 W is accepted).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pymodbus.constants import ExcCodes

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.plant import ChargePoint, ChargerSpec
from hems.devices.sim.registers import decode, encode
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

VERSION, SERIAL, MODEL, CONNECTOR_COUNT, FALLBACK_POWER, CP_STATE, COMM_TIMEOUT = 0, 16, 26, 36, 38, 40, 42
OFF_STATE, OFF_SESSION_STATE, OFF_SESSION_TYPE, OFF_POWER, OFF_SOC, OFF_CONNECTOR_TYPE = 0, 2, 4, 10, 12, 14
OFF_VOLTAGE, OFF_CURRENT, OFF_CHARGED, OFF_DISCHARGED, OFF_CONSUMPTION = 6, 8, 18, 20, 46
OFF_LOWER_POTENTIAL, OFF_UPPER, OFF_LOWER, OFF_ERROR, OFF_CAR_ID = 22, 30, 38, 54, 76
OFF_CAPACITY, OFF_MIN_CAPACITY = 58, 62
OFF_SETPOINT, OFF_SUSPEND = 86, 88
ST_NO_CAR, ST_PLUGGED, ST_INITIALISING = 1, 5, 6
ST_CHARGING, ST_DISCHARGING, ST_IDLE, ST_ERROR = 7, 8, 10, 12
SESSION_BIDIRECTIONAL = 5
CCS_READY, CCS_PLUGGED_IN, CCS_CURRENT_DEMAND, CCS_GRID_FEED_IN = 0, 2, 16, 17
CP_READY, CP_IN_USE = 1, 5
CONNECTORS = 9
DC_VOLTAGE_V = 400.0
MAX_COMM_TIMEOUT_S = 600

EVTEC_CHARGER = ChargerSpec(phases=3, voltage_v=230.0, min_current_a=2.0, max_current_a=14.5, ramp_s=2.0)


class EvtecBiDiPro(RegisterDevice):
    def __init__(self, *, plant: ChargePoint | None = None, unit_id: int = 1,
                 clock: Clock | None = None, connector: int = 1, comm_timeout_s: int = 0,
                 serial: str = "BDP10-0042", setup_s: float = 0.0) -> None:
        super().__init__(unit_id, clock)
        if not 1 <= connector <= CONNECTORS:
            raise ValueError(f"connector {connector} is not in 1..{CONNECTORS}")
        self.plant = plant or ChargePoint(spec=EVTEC_CHARGER)
        self.base = connector * 100
        h = self.holding
        h.define(0, [0] * 44)
        h.set(VERSION, encode("string", "ECP4-2.0.7", 16))
        h.set(SERIAL, encode("string", serial, 10))
        h.set(MODEL, encode("string", "BiDiPro10 crema", 10))
        h.set(CONNECTOR_COUNT, encode("int32", 1))
        h.define(FALLBACK_POWER, encode("int32", 0), writable=True)
        h.define(COMM_TIMEOUT, encode("int32", comm_timeout_s), writable=True)
        for n in range(1, CONNECTORS + 1):
            h.define(n * 100, [0] * 100)
        h.define(self.base + OFF_SETPOINT, [0] * 4, writable=True)
        self.comm_timeouts = 0                         # how often the communication timeout fired
        self.setup_s = float(setup_s)                  # plug-in to controllable session
        self.last_request_at = self.clock.now()
        self._was_plugged = self.plant.plugged         # a car present at power-up: session is up
        self._session_up_at = self.last_request_at
        self.refresh(self.last_request_at)

    def _get_int32(self, address: int) -> int:
        return int(decode("int32", self.holding.get(address, 2)))

    def _put(self, offset: int, type_name: str, value: float | int | str, size: int | None = None) -> None:
        self.holding.set(self.base + offset, encode(type_name, value, size))

    @property
    def setpoint_w(self) -> float:
        """The power setpoint in force, hems sign (+ = charging)."""
        return float(self._get_int32(self.base + OFF_SETPOINT))

    def _setting_up(self, now: datetime) -> bool:
        """A car is plugged in but its session is not up yet (states 5 and 6)."""
        return self.plant.plugged and now < self._session_up_at

    def _window_w(self) -> tuple[float, float, float]:
        """(discharge floor, charge floor, charge ceiling) offered now."""
        p = self.plant
        if not p.plugged or p.fault or self._setting_up(self.clock.now()):
            return 0.0, 0.0, 0.0
        ceiling = min(p.spec.max_power_w, p.car.max_charge_w)
        floor = -min(p.spec.max_power_w, p.car.max_discharge_w)
        return floor, 0.0, ceiling

    # --- device behaviour ---------------------------------------------------------------
    def check_write(self, address: int, values: list[int]) -> ExcCodes | None:
        image = {a: self.holding.get(a)[0] for a in range(address, address + len(values))}
        image.update({address + i: v for i, v in enumerate(values)})

        def int32_at(a: int) -> int:
            return int(decode("int32", [image.get(a, self.holding.get(a)[0]),
                                        image.get(a + 1, self.holding.get(a + 1)[0])]))
        if address <= COMM_TIMEOUT + 1 and address + len(values) > COMM_TIMEOUT:
            if not 0 <= int32_at(COMM_TIMEOUT) <= MAX_COMM_TIMEOUT_S:
                return ExcCodes.ILLEGAL_VALUE
        sp = self.base + OFF_SETPOINT
        if address <= sp + 1 and address + len(values) > sp:
            w = int32_at(sp)
            floor, lower, upper = self._window_w()
            # the window is published as float32 W and the setpoint is whole W: compare to the W
            if not (round(floor) <= w <= 0 or round(lower) <= w <= round(upper)):
                return ExcCodes.ILLEGAL_VALUE
        return None

    def _check_comm_timeout(self, now: datetime) -> None:
        timeout_s = self._get_int32(COMM_TIMEOUT)
        if timeout_s <= 0 or self.setpoint_w == 0:
            return
        if (now - self.last_request_at).total_seconds() >= timeout_s:
            self._put(OFF_SETPOINT, "int32", 0)
            self.comm_timeouts += 1
            log.info("unit %d: no Modbus request for %d s, idling", self.unit_id, timeout_s)

    def advance(self, now: datetime) -> None:
        self._check_comm_timeout(now)
        plugged = self.plant.plugged
        if plugged and not self._was_plugged:
            self._session_up_at = now + timedelta(seconds=self.setup_s)
        self._was_plugged = plugged
        if not plugged and self.setpoint_w != 0:
            self._put(OFF_SETPOINT, "int32", 0)             # a session ends with the car
        self.plant.command(0.0 if self._setting_up(now) else self.setpoint_w)
        self.plant.advance(now)

    def _state(self, now: datetime) -> int:
        p = self.plant
        if p.fault:
            return ST_ERROR
        if not p.plugged:
            return ST_NO_CAR
        if self._setting_up(now):
            half_s = self.setup_s / 2
            return ST_PLUGGED if now < self._session_up_at - timedelta(seconds=half_s) else ST_INITIALISING
        if p.actual_w > 0.5:
            return ST_CHARGING
        if p.actual_w < -0.5:
            return ST_DISCHARGING
        return ST_IDLE

    def refresh(self, now: datetime) -> None:
        self.advance(now)
        p = self.plant
        floor, lower, upper = self._window_w()
        session_up = p.plugged and not self._setting_up(now)
        self._put(OFF_STATE, "int32", self._state(now))
        self._put(OFF_SESSION_STATE, "int32", _ccs_state(p.plugged, session_up, p.actual_w))
        self._put(OFF_SESSION_TYPE, "int32", SESSION_BIDIRECTIONAL if session_up else 0)
        self._put(OFF_POWER, "float32", p.actual_w)
        self._put(OFF_VOLTAGE, "float32", DC_VOLTAGE_V if p.plugged else 0.0)
        self._put(OFF_CURRENT, "float32", p.actual_w / DC_VOLTAGE_V)
        self._put(OFF_CHARGED, "float32", p.charged_wh)
        self._put(OFF_DISCHARGED, "float32", p.discharged_wh)
        self._put(OFF_CONSUMPTION, "float32", p.actual_w)
        self._put(OFF_CAPACITY, "float32", p.car.capacity_wh if session_up else 0.0)
        self._put(OFF_MIN_CAPACITY, "float32", 0.1 * p.car.capacity_wh if session_up else 0.0)
        self.holding.set(CP_STATE, encode("int32", CP_IN_USE if p.plugged else CP_READY))
        soc = p.reported_soc_pct
        self._put(OFF_SOC, "int32", round(soc * 10) if soc is not None else 0)
        self._put(OFF_CONNECTOR_TYPE, "int32", 1)
        self._put(OFF_LOWER_POTENTIAL, "float32", floor)
        self._put(OFF_UPPER, "float32", upper)
        self._put(OFF_LOWER, "float32", lower)
        self._put(OFF_ERROR, "uint64", 1 if p.fault else 0)
        self._put(OFF_CAR_ID, "string", "EVCCID0A1B2C" if p.plugged else "", 10)


def _ccs_state(plugged: bool, session_up: bool, actual_w: float) -> int:
    if not plugged:
        return CCS_READY
    if session_up and actual_w > 0.5:
        return CCS_CURRENT_DEMAND
    if session_up and actual_w < -0.5:
        return CCS_GRID_FEED_IN
    return CCS_PLUGGED_IN
