"""Device ports (small Protocols) and their drivers. Only hems.devices.modbus imports pymodbus."""
