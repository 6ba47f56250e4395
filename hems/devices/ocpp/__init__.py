"""The home's local OCPP server: charge points speaking OCPP 1.6J, 2.0.1 or 2.1 as BidiChargers.

The only package that imports the `ocpp` library and websockets' server (see README.md)."""
from hems.devices.ocpp.charger import OcppCharger
from hems.devices.ocpp.profiles import Electrical
from hems.devices.ocpp.server import OcppServer, OcppSettings

__all__ = ["Electrical", "OcppCharger", "OcppServer", "OcppSettings"]
