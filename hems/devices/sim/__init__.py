"""Simulated devices served over real Modbus (pymodbus servers), and the simulated home.

See README.md in this package for the API.
"""
from hems.devices.sim.device import RegisterDevice, WriteRecord
from hems.devices.sim.eastron import SDM120, SDM630
from hems.devices.sim.evtec import EVTEC_CHARGER, EvtecBiDiPro
from hems.devices.sim.home import HomeEnergy, SimHome, TripRecord
from hems.devices.sim.house_data import HouseProfile
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
from hems.devices.sim.quasar import WallboxQuasar
from hems.devices.sim.serial_pair import SerialPair
from hems.devices.sim.server import SimServer, free_tcp_port
from hems.devices.sim.sunspec_charger import SunSpecCharger
from hems.devices.sim.sunspec_meter import SunSpecMeter
from hems.devices.sim.sunspec_pv import SunSpecPvInverter
from hems.devices.sim.trips import Trip, TripSchedule

__all__ = [
    "EVTEC_CHARGER", "SDM120", "SDM630", "CarSpec", "ChargePoint", "ChargerSpec", "EvtecBiDiPro",
    "HomeEnergy", "HouseProfile", "RegisterDevice", "SerialPair", "SimHome", "SimServer",
    "SunSpecCharger", "SunSpecMeter", "SunSpecPvInverter", "Trip", "TripRecord", "TripSchedule",
    "WallboxQuasar", "WriteRecord", "free_tcp_port",
]
