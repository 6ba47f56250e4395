"""Bidirectional charger driver: any charger profile -> ChargerReading; signed W setpoints.

Setpoints are in the hems convention (+ charging, - discharging) and converted by the
profile's sign. Before the first setpoint the profile's `on_connect` writes run (for example
the Quasar's remote-control handshake, checked by reading it back); `start`/`stop` writes run
when the setpoint moves between zero and non-zero.
"""
from __future__ import annotations

import logging
import math

from hems.devices.drivers.base import ProfileDriver, require
from hems.devices.drivers.hooks import HOOKS
from hems.devices.ports import DeviceError
from hems.domain import ChargerReading, ChargerState

log = logging.getLogger(__name__)

MOVING_W = 50.0          # |power| above which a connected car counts as (dis)charging
MAX_SETPOINT_W = 50_000.0


class ChargerDriver(ProfileDriver):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_setpoint_w: float | None = None
        self._handshake_done = False
        self._started: bool | None = None    # None: unknown (after connect or a lost control)

    async def _after_connect(self) -> None:
        self._handshake_done = False

    def _state(self, raw: int | None, power_w: float) -> ChargerState:
        if raw is None:
            return ChargerState.UNKNOWN
        state = self.profile.states.get(int(raw), ChargerState.UNKNOWN)
        if state in (ChargerState.CONNECTED, ChargerState.CHARGING, ChargerState.DISCHARGING):
            if power_w > MOVING_W:
                return ChargerState.CHARGING
            if power_w < -MOVING_W:
                return ChargerState.DISCHARGING
            return ChargerState.CONNECTED
        return state

    async def read(self) -> ChargerReading:
        v = await self.values()
        power_w = require(v, "ev_power_w", str(self.link))
        state = self._state(v.get("state"), power_w)
        v = HOOKS[self.profile.hook](v, state)
        soc = v.get("soc_pct") if state is not ChargerState.NO_CAR else None
        if soc is not None and not 0.0 <= soc <= 100.0:
            log.debug("%s: SoC %s %% out of range, ignored", self.name, soc)
            soc = None
        code = v.get("fault_code")
        fault = None
        if state is ChargerState.FAULT:
            fault = f"charger reports a fault (state {v.get('state')}, code {code})"
        elif code:
            fault = f"charger reports code {code}"
        return ChargerReading(
            at=self.clock.now(), ev_power_w=power_w, state=state, soc_pct=soc,
            setpoint_w=v.get("setpoint_w"), max_charge_w=_abs(v.get("max_charge_w")),
            max_discharge_w=_abs(v.get("max_discharge_w")), fault=fault)

    async def _handshake(self) -> None:
        for w in self.profile.writes.get("on_connect", ()):
            await self.engine.write(w.point, w.value)
            back = await self.engine.read_point(w.point)
            if back is None or not math.isclose(float(back), w.value, abs_tol=0.5):
                raise DeviceError(f"{self.name}: charger did not accept {w.point.name} write "
                                  f"at {self.engine.resolve_point(w.point).address} "
                                  f"(wrote {w.value:g}, reads {_fmt(back)})")
        self._handshake_done = True
        self._started = None

    async def write_power(self, ev_power_w: float) -> None:
        if not isinstance(ev_power_w, (int, float)) or not math.isfinite(ev_power_w) \
                or abs(ev_power_w) > MAX_SETPOINT_W:
            raise DeviceError(f"{self.name}: setpoint {ev_power_w!r} W refused "
                              f"(a finite number within +/-{MAX_SETPOINT_W:g} W expected)")
        await self.ensure_connected()
        if not self._handshake_done:
            await self._handshake()
        if ev_power_w and self._started is not True:
            for w in self.profile.writes.get("start", ()):
                await self.engine.write(w.point, w.value)
            self._started = True
        await self.engine.write(self.profile.controls["setpoint_w"], float(ev_power_w))
        if not ev_power_w and self._started is not False:
            for w in self.profile.writes.get("stop", ()):
                await self.engine.write(w.point, w.value)
            self._started = False
        self.last_setpoint_w = float(ev_power_w)

    async def close(self) -> None:
        await super().close()
        self._handshake_done = False


class HeartbeatChargerDriver(ChargerDriver):
    """A charger with a communication-timeout register: set it, then keep it fresh.

    If hems stops refreshing (the process died), the charger falls back on its own after
    `heartbeat_timeout_s`.
    """

    def __init__(self, *args, heartbeat_timeout_s: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        hb = self.profile.heartbeat
        assert hb is not None, "HeartbeatChargerDriver needs a profile with a heartbeat"
        self.heartbeat_timeout_s = float(heartbeat_timeout_s or hb.timeout_s)

    async def _handshake(self) -> None:
        await self.engine.write(self.profile.heartbeat.point, self.heartbeat_timeout_s)
        await super()._handshake()

    async def _still_in_control(self) -> bool:
        for w in self.profile.writes.get("on_connect", ()):
            back = await self.engine.read_point(w.point)
            if back is None or not math.isclose(float(back), w.value, abs_tol=0.5):
                return False
        return True

    async def refresh_heartbeat(self) -> None:
        """Re-arm the charger's timeout; take control back if the charger dropped it."""
        await self.ensure_connected()
        if self._handshake_done and not await self._still_in_control():
            log.warning("%s: charger left remote control (timeout or local change); "
                        "taking it back", self.name)
            self._handshake_done = False
        if not self._handshake_done:
            await self._handshake()
        else:
            await self.engine.write(self.profile.heartbeat.point, self.heartbeat_timeout_s)
        if self.last_setpoint_w is not None:
            await self.write_power(self.last_setpoint_w)


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _abs(value):
    return abs(float(value)) if value is not None else None
