"""Build the bridge's devices from plain settings (the composition root calls this)."""
from __future__ import annotations

from hems.devices.bridge.devices import (
    BridgeFrequencySource, BridgePilotCharger, BridgePulseMeter,
)
from hems.devices.bridge.link import BridgeLink
from hems.domain.clock import Clock


def build_bridge_devices(serial_port: str, *, baudrate: int = 115200, phases: int = 1,
                         voltage_v: float = 230.0, max_current_a: float = 16.0,
                         heartbeat_timeout_s: float = 3.0, fallback_current_a: float = 0.0,
                         s0_imp_per_kwh: float | None = None, s0_measures_charger: bool = False,
                         clock: Clock | None = None) -> dict[str, object]:
    """name -> device, all on one link: 'bridge_frequency', 'bridge_charger' and, when an S0
    meter is wired (s0_imp_per_kwh), 'bridge_s0'. With s0_measures_charger the charger's
    power comes from that meter instead of the pilot-current estimate."""
    link = BridgeLink(serial_port, baudrate=baudrate, clock=clock)
    devices: dict[str, object] = {
        "bridge_frequency": BridgeFrequencySource("bridge_frequency", link),
        "bridge_charger": BridgePilotCharger(
            "bridge_charger", link, phases=phases, voltage_v=voltage_v,
            max_current_a=max_current_a, heartbeat_timeout_s=heartbeat_timeout_s,
            fallback_current_a=fallback_current_a,
            s0_imp_per_kwh=s0_imp_per_kwh if s0_measures_charger else None),
    }
    if s0_imp_per_kwh:
        devices["bridge_s0"] = BridgePulseMeter("bridge_s0", link, imp_per_kwh=s0_imp_per_kwh)
    return devices
