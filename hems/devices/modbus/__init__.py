"""Modbus transport: the only package in hems that imports pymodbus."""
from hems.devices.modbus.bus import (
    BusRegistry,
    CannotConnect,
    ModbusBus,
    ModbusError,
    SerialEndpoint,
    TcpEndpoint,
    UnitLink,
)
from hems.devices.modbus.codec import CodecError, decode, encode, register_count, scaled
from hems.devices.modbus.sunspec import (
    CommonInfo,
    SunSpecMap,
    SunSpecModel,
    SunSpecNotFound,
    discover,
    read_common,
)

__all__ = [
    "BusRegistry", "CannotConnect", "CodecError", "CommonInfo", "ModbusBus", "ModbusError", "SerialEndpoint",
    "SunSpecMap", "SunSpecModel", "SunSpecNotFound", "TcpEndpoint", "UnitLink", "decode",
    "discover", "encode", "read_common", "register_count", "scaled",
]
