"""The bridge as hems devices: a frequency source, an AC charger through the pilot, an S0 meter.

All three share one BridgeLink and implement the Protocols in hems.devices.ports.
"""
from __future__ import annotations

import logging

from hems.devices.bridge.link import BridgeLink
from hems.devices.bridge.status import (
    BridgeStatus, DroopSettings, PulseTotal, power_to_current_da, pulse_power_w,
)
from hems.devices.ports import DeviceError
from hems.domain import ChargerReading, ChargerState, MeterReading

log = logging.getLogger(__name__)


class _BridgeDevice:
    def __init__(self, name: str, link: BridgeLink, stale_after_s: float = 3.0) -> None:
        self.name = name
        self.link = link
        self.stale_after_s = stale_after_s

    async def connect(self) -> None:
        await self.link.connect()

    async def close(self) -> None:
        await self.link.close()

    async def _status(self) -> BridgeStatus:
        try:
            return await self.link.fresh_status(self.stale_after_s)
        except DeviceError as exc:
            raise DeviceError(f"{self.name}: {exc}") from exc


class BridgeFrequencySource(_BridgeDevice):
    """Mains frequency measured by the bridge (zero crossings, mHz resolution)."""

    async def read_frequency_hz(self) -> float:
        status = await self._status()
        if status.frequency_hz is None:
            raise DeviceError(f"{self.name}: no mains frequency (zero-crossing input silent)")
        return status.frequency_hz

    async def set_droop(self, droop: DroopSettings) -> None:
        """Configure the bridge's local fast frequency response."""
        await self.link.set_droop(droop)


def charger_state(status: BridgeStatus) -> tuple[ChargerState, str | None]:
    """hems charger state (and fault text) from the pilot state, relay and faults."""
    latched = [f for f in status.faults
               if f in ("diode", "pilot_error", "welded_contact", "relay_stuck_open",
                        "ventilation_required")]
    if latched:
        return ChargerState.FAULT, ", ".join(latched)
    state = status.pilot_state
    if state == "A":
        return ChargerState.NO_CAR, None
    if state == "B":
        return ChargerState.CONNECTED, None
    if state in ("C", "D"):
        delivering = status.relay_closed and status.relay_feedback is not False
        return (ChargerState.CHARGING if delivering else ChargerState.CONNECTED), None
    if state in ("E", "F"):
        return ChargerState.FAULT, f"pilot state {state}"
    return ChargerState.UNKNOWN, None


class BridgePilotCharger(_BridgeDevice):
    """An AC (IEC 61851) charger driven through the bridge's control pilot. It only charges:
    write_power refuses a negative setpoint. Power is the S0 meter's when the bridge's S0
    input measures this charger (s0_imp_per_kwh set), else estimated from the pilot current."""

    def __init__(self, name: str, link: BridgeLink, *, phases: int = 1, voltage_v: float = 230.0,
                 max_current_a: float = 16.0, heartbeat_timeout_s: float = 3.0,
                 fallback_current_a: float = 0.0, s0_imp_per_kwh: float | None = None,
                 stale_after_s: float = 3.0) -> None:
        super().__init__(name, link, stale_after_s)
        if phases not in (1, 3):
            raise ValueError(f"{name}: phases must be 1 or 3, not {phases}")
        self.phases = phases
        self.voltage_v = voltage_v
        self.max_current_a = max_current_a
        self.timeout_s = heartbeat_timeout_s
        self.fallback_current_a = fallback_current_a
        self.s0_imp_per_kwh = s0_imp_per_kwh
        self._setpoint_w: float | None = None

    async def connect(self) -> None:
        await super().connect()
        hello = self.link.hello or {}
        hw_max_a = hello.get("max_current_da", 800) / 10
        if self.max_current_a > hw_max_a:
            log.warning("%s: max_current_a %.1f A above the bridge's %.1f A: using %.1f A",
                        self.name, self.max_current_a, hw_max_a, hw_max_a)
            self.max_current_a = hw_max_a
        await self.link.set_watchdog(round(self.timeout_s * 1000),
                                     round(self.fallback_current_a * 10))

    @property
    def max_charge_w(self) -> float:
        return self.max_current_a * self.voltage_v * self.phases

    async def read(self) -> ChargerReading:
        status = await self._status()
        state, fault = charger_state(status)
        if self.s0_imp_per_kwh:
            power_w = pulse_power_w(status.pulse_interval_ms, status.ms_since_pulse,
                                    self.s0_imp_per_kwh)
        elif state is ChargerState.CHARGING:
            power_w = status.pilot_out_a * self.voltage_v * self.phases
        else:
            power_w = 0.0
        return ChargerReading(at=status.at, ev_power_w=power_w, state=state,
                              setpoint_w=self._setpoint_w, max_charge_w=self.max_charge_w,
                              max_discharge_w=0.0, fault=fault)

    async def write_power(self, ev_power_w: float) -> None:
        """+ charge at up to this power; 0 stop. A discharge request is refused."""
        try:
            da = power_to_current_da(ev_power_w, self.voltage_v, self.phases,
                                     round(self.max_current_a * 10))
        except ValueError as exc:
            log.error("%s: setpoint refused: %s", self.name, exc)
            raise DeviceError(f"{self.name}: {exc}") from exc
        if da > 0:
            await self.link.set_charge_enabled(True)
            await self.link.set_pilot_current_da(da)
        else:
            await self.link.set_pilot_current_da(0)
            await self.link.set_charge_enabled(False)
        self._setpoint_w = da / 10 * self.voltage_v * self.phases

    async def refresh_heartbeat(self) -> None:
        await self.link.heartbeat()

    async def clear_faults(self) -> None:
        await self.link.clear_faults()


class BridgePulseMeter(_BridgeDevice):
    """An S0 pulse meter on the bridge. S0 counts one direction: `direction` says which
    (import: grid_power_w >= 0; export: grid_power_w <= 0). Energy counts from hems start."""

    def __init__(self, name: str, link: BridgeLink, *, imp_per_kwh: float = 1000.0,
                 direction: str = "import", stale_after_s: float = 3.0) -> None:
        super().__init__(name, link, stale_after_s)
        if imp_per_kwh <= 0:
            raise ValueError(f"{name}: imp_per_kwh must be > 0")
        if direction not in ("import", "export"):
            raise ValueError(f"{name}: direction must be 'import' or 'export'")
        self.imp_per_kwh = imp_per_kwh
        self.direction = direction
        self._total = PulseTotal()
        self._resets_seen = link.resets

    async def read(self) -> MeterReading:
        status = await self._status()
        reset = self.link.resets != self._resets_seen
        self._resets_seen = self.link.resets
        pulses = self._total.update(status.pulses, bridge_reset=reset)
        energy_wh = pulses * 1000.0 / self.imp_per_kwh
        power_w = pulse_power_w(status.pulse_interval_ms, status.ms_since_pulse, self.imp_per_kwh)
        if self.direction == "import":
            return MeterReading(at=status.at, grid_power_w=power_w, import_wh=energy_wh)
        return MeterReading(at=status.at, grid_power_w=-power_w, export_wh=energy_wh)
