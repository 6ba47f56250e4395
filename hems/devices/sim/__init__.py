"""Simulated devices served over real Modbus (pymodbus servers), and the simulated home.

See README.md in this package for the API.
"""
from hems.devices.sim.device import RegisterDevice, WriteRecord
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
from hems.devices.sim.server import SimServer, free_tcp_port
from hems.devices.sim.sunspec_charger import SunSpecCharger
from hems.devices.sim.sunspec_meter import SunSpecMeter
from hems.devices.sim.sunspec_pv import SunSpecPvInverter

__all__ = [
    "CarSpec", "ChargePoint", "ChargerSpec", "RegisterDevice", "SimServer", "SunSpecCharger",
    "SunSpecMeter", "SunSpecPvInverter", "WriteRecord", "free_tcp_port",
]
