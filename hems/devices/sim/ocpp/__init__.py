"""Simulated OCPP charging stations (1.6J, 2.0.1, 2.1 with V2X) in the charge point role."""
from hems.devices.sim.ocpp.station import VERSIONS, SimStation

__all__ = ["SimStation", "VERSIONS"]
