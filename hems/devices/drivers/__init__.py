"""Role drivers (meter, PV, charger) that read any profile of their role."""
from hems.devices.drivers.charger import ChargerDriver, HeartbeatChargerDriver
from hems.devices.drivers.meter import MeterDriver
from hems.devices.drivers.pv import CurtailablePvDriver, PvDriver

__all__ = ["ChargerDriver", "CurtailablePvDriver", "HeartbeatChargerDriver", "MeterDriver",
           "PvDriver"]
