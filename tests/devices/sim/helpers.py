"""Helpers: serve a simulated device on a free port and talk to it with a plain pymodbus client."""
from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import AsyncIterator

from pymodbus.client import AsyncModbusTcpClient

from hems.devices.sim import SimServer

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc)   # a Monday


@contextlib.asynccontextmanager
async def serve(*devices, timeout_s: float = 2.0) -> AsyncIterator[AsyncModbusTcpClient]:
    server = SimServer(list(devices))
    await server.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=timeout_s, retries=0)
    try:
        assert await client.connect()
        yield client
    finally:
        client.close()
        await server.stop()


async def read(client: AsyncModbusTcpClient, address: int, count: int = 1, unit: int = 1) -> list[int]:
    rr = await client.read_holding_registers(address, count=count, device_id=unit)
    assert not rr.isError(), rr
    return rr.registers


def s16(raw: int) -> int:
    return raw - 0x10000 if raw >= 0x8000 else raw


async def walk_chain(client: AsyncModbusTcpClient, base: int, unit: int = 1) -> list[tuple[int, int, int]]:
    """(model id, start address, length) for each model, the way a SunSpec client discovers them."""
    assert await read(client, base, 2, unit) == [0x5375, 0x6E53]
    out, addr = [], base + 2
    while True:
        model_id, length = await read(client, addr, 2, unit)
        if model_id == 0xFFFF:
            return out
        out.append((model_id, addr, length))
        addr += length + 2
        assert len(out) < 50
