"""Eastron SDM630 / SDM120 simulators: input registers, float32, over TCP."""
from __future__ import annotations

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hems.devices.sim.eastron import SDM120, SDM630
from .helpers import serve

F32 = AsyncModbusTcpClient.DATATYPE.FLOAT32


async def _f32(client: AsyncModbusTcpClient, address: int, unit: int = 1) -> float:
    rr = await client.read_input_registers(address, count=2, device_id=unit)
    assert not rr.isError(), rr
    return client.convert_from_registers(rr.registers, F32)


async def test_sdm630_measurements(clock) -> None:
    meter = SDM630(clock=clock, voltage_v=231.0)
    meter.set_power((2310.0, -462.0, 0.0))
    async with serve(meter) as client:
        assert [await _f32(client, a) for a in (0x00, 0x02, 0x04)] == pytest.approx([231.0] * 3)
        assert [await _f32(client, a) for a in (0x06, 0x08, 0x0A)] == pytest.approx([10.0, 2.0, 0.0])
        assert [await _f32(client, a) for a in (0x0C, 0x0E, 0x10)] == pytest.approx([2310.0, -462.0, 0.0])
        assert await _f32(client, 0x34) == pytest.approx(1848.0)
        assert await _f32(client, 0x46) == pytest.approx(50.0)
        clock.advance(1800)
        # netting meter: the phases are summed before counting
        assert await _f32(client, 0x48) == pytest.approx(0.924, abs=1e-3)      # import kWh
        assert await _f32(client, 0x4A) == pytest.approx(0.0, abs=1e-6)        # export kWh
        meter.set_power(-1000.0)
        clock.advance(3600)
        assert await _f32(client, 0x4A) == pytest.approx(1.0, abs=1e-3)
        # one block read across reserved addresses, as drivers do
        rr = await client.read_input_registers(0x00, count=0x4C, device_id=1)
        assert not rr.isError() and len(rr.registers) == 0x4C
        # measurements are input registers only; past the map: illegal address
        rr = await client.read_holding_registers(0x34, count=2, device_id=1)
        assert rr.isError() and rr.exception_code == 2
        rr = await client.read_input_registers(0x60, count=2, device_id=1)
        assert rr.isError() and rr.exception_code == 2


async def test_sdm630_configuration_holding_registers(clock) -> None:
    meter = SDM630(clock=clock, unit_id=5, baudrate=19200, serial_number=12345678)
    async with serve(meter) as client:
        rr = await client.read_holding_registers(0x14, count=2, device_id=5)
        assert client.convert_from_registers(rr.registers, F32) == 5.0
        rr = await client.read_holding_registers(0x1C, count=2, device_id=5)
        assert client.convert_from_registers(rr.registers, F32) == 3.0           # 19200 baud
        rr = await client.read_holding_registers(0xFC00, count=2, device_id=5)
        assert client.convert_from_registers(rr.registers, client.DATATYPE.UINT32) == 12345678
        rr = await client.write_registers(0x14, [0, 0], device_id=5)
        assert rr.isError() and rr.exception_code == 2


async def test_sdm120_single_phase(clock) -> None:
    meter = SDM120(clock=clock)
    meter.set_power(-3000.0)
    async with serve(meter) as client:
        assert await _f32(client, 0x0C) == pytest.approx(-3000.0)
        assert await _f32(client, 0x06) == pytest.approx(3000 / 230, rel=1e-5)
        assert await _f32(client, 0x0E) == 0.0                                    # no phase 2
        rr = await client.read_input_registers(0xC8, count=2, device_id=1)        # no line-line V
        assert rr.isError() and rr.exception_code == 2
        meter.set_power(500.0)
        assert await _f32(client, 0x0C) == pytest.approx(500.0)                  # live


async def test_sdm120_baud_rate_codes(clock) -> None:
    meter = SDM120(clock=clock, baudrate=1200)
    async with serve(meter) as client:
        rr = await client.read_holding_registers(0x1C, count=2, device_id=1)
        assert client.convert_from_registers(rr.registers, F32) == 5.0           # 1200 baud
    with pytest.raises(ValueError, match="SDM120 has no 19200 baud"):
        SDM120(clock=clock, baudrate=19200)
    with pytest.raises(ValueError, match="SDM630 has no 1200 baud"):
        SDM630(clock=clock, baudrate=1200)
