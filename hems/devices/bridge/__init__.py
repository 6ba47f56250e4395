"""The microcontroller bridge (firmware_bridge/) as hems devices, over serial (pyserial)."""
from hems.devices.bridge.devices import (
    BridgeFrequencySource, BridgePilotCharger, BridgePulseMeter, charger_state,
)
from hems.devices.bridge.factory import build_bridge_devices
from hems.devices.bridge.link import BridgeLink
from hems.devices.bridge.status import BridgeStatus, DroopSettings

__all__ = [
    "BridgeFrequencySource", "BridgeLink", "BridgePilotCharger", "BridgePulseMeter",
    "BridgeStatus", "DroopSettings", "build_bridge_devices", "charger_state",
]
