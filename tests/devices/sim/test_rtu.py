"""Several simulated devices on one RS485 bus: Modbus RTU over a socat pseudo-terminal pair."""
from __future__ import annotations

import shutil

import pytest
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from hems.devices.sim import ChargePoint, SimServer
from hems.devices.sim.eastron import SDM120, SDM630
from hems.devices.sim.evtec import EVTEC_CHARGER, EvtecBiDiPro
from hems.devices.sim.serial_pair import SerialPair

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat (make test-deps)")
F32 = AsyncModbusSerialClient.DATATYPE.FLOAT32


async def test_three_units_share_one_serial_bus(clock) -> None:
    sdm630 = SDM630(clock=clock, unit_id=1)
    sdm630.set_power((1500.0, 500.0, -250.0))
    sdm120 = SDM120(clock=clock, unit_id=2)
    sdm120.set_power(-1200.0)
    charger = EvtecBiDiPro(clock=clock, unit_id=3, plant=ChargePoint(spec=EVTEC_CHARGER, soc_pct=66.6))
    async with SerialPair() as pair:
        async with SimServer([sdm630, sdm120, charger], serial_port=pair.server_port, baudrate=19200):
            client = AsyncModbusSerialClient(pair.client_port, baudrate=19200, timeout=0.3, retries=0)
            assert await client.connect()
            try:
                rr = await client.read_input_registers(0x34, count=2, device_id=1)
                assert client.convert_from_registers(rr.registers, F32) == pytest.approx(1750.0)
                rr = await client.read_input_registers(0x0C, count=2, device_id=2)
                assert client.convert_from_registers(rr.registers, F32) == pytest.approx(-1200.0)
                rr = await client.read_holding_registers(112, count=2, device_id=3)
                assert client.convert_from_registers(rr.registers, client.DATATYPE.INT32) == 666
                rr = await client.write_registers(
                    186, client.convert_to_registers(-3000, client.DATATYPE.INT32), device_id=3)
                assert not rr.isError()
                assert charger.setpoint_w == -3000
                # a unit nobody has: silence on the bus, the client times out
                with pytest.raises(ModbusIOException):
                    await client.read_input_registers(0x0C, count=2, device_id=9)
                # and the bus still works afterwards
                rr = await client.read_input_registers(0x0C, count=2, device_id=2)
                assert client.convert_from_registers(rr.registers, F32) == pytest.approx(-1200.0)
            finally:
                client.close()
