"""The shared bus over real TCP against a server that can misbehave on purpose."""
import asyncio

import pytest

from hems.devices.modbus import BusRegistry, ModbusBus, ModbusError, TcpEndpoint
from tests.devices.rawserver import RawModbusServer, RawUnit


@pytest.fixture
async def raw():
    u1, u2 = RawUnit(), RawUnit()
    u1.set_block(100, [1, 2, 3, 4])
    u1.set_block(0, [0x4366, 0x8000], "input")
    u2.set_block(100, [9, 8, 7, 6])
    server = RawModbusServer({1: u1, 2: u2})
    await server.start()
    yield server
    await server.stop()


async def test_read_write_two_units_one_connection(raw):
    bus = ModbusBus(TcpEndpoint("127.0.0.1", raw.port), timeout_s=1.0)
    a, b = bus.unit(1), bus.unit(2)
    results = await asyncio.gather(*(u.read(100, 4) for u in (a, b, a, b)))
    assert results == [[1, 2, 3, 4], [9, 8, 7, 6]] * 2
    assert await a.read(0, 2, "input") == [0x4366, 0x8000]
    await b.write(101, [55])
    await b.write(102, [56, 57])
    assert await b.read(100, 4) == [9, 55, 56, 57]
    assert raw.writes == [(2, 101, [55]), (2, 102, [56, 57])]
    client = bus._client
    assert client is not None and client.connected
    await bus.close()


async def test_registry_shares_one_bus_per_endpoint(raw):
    reg = BusRegistry()
    ep = TcpEndpoint("127.0.0.1", raw.port)
    assert reg.get(ep) is reg.get(TcpEndpoint("127.0.0.1", raw.port))
    assert reg.get(ep) is not reg.get(TcpEndpoint("127.0.0.1", raw.port + 1))
    assert len(reg) == 2
    await reg.close_all()


async def test_exception_reply_names_code(raw):
    bus = ModbusBus(TcpEndpoint("127.0.0.1", raw.port), timeout_s=1.0)
    with pytest.raises(ModbusError, match=r"unit 1: read holding 500\+2: exception 2 "
                                          r"\(illegal data address\)") as err:
        await bus.unit(1).read(500, 2)
    assert err.value.exception_code == 2
    raw.mode = "exception"
    with pytest.raises(ModbusError, match="exception 4 \\(device failure\\)"):
        await bus.unit(1).read(100, 1)
    raw.mode = "normal"
    assert await bus.unit(1).read(100, 1) == [1]     # the bus still works
    await bus.close()


@pytest.mark.parametrize("mode", ["garbage", "short", "silent", "close"])
async def test_bad_replies_become_errors_and_the_bus_recovers(raw, mode):
    bus = ModbusBus(TcpEndpoint("127.0.0.1", raw.port), timeout_s=0.5)
    raw.mode = mode
    with pytest.raises(ModbusError) as err:
        await bus.unit(1).read(100, 4)
    assert "127.0.0.1" in str(err.value) and "unit 1" in str(err.value)
    assert err.value.exception_code is None
    raw.mode = "normal"
    assert await bus.unit(1).read(100, 4) == [1, 2, 3, 4]
    await bus.close()


async def test_nobody_listening():
    from tests.conftest import free_port
    bus = ModbusBus(TcpEndpoint("127.0.0.1", free_port()), timeout_s=0.5)
    with pytest.raises(ModbusError, match="cannot connect"):
        await bus.unit(1).read(0, 1)


async def test_long_reads_are_split(raw):
    raw.units[1].set_block(1000, list(range(300)))
    bus = ModbusBus(TcpEndpoint("127.0.0.1", raw.port), timeout_s=1.0)
    before = raw.requests
    assert await bus.unit(1).read(1000, 300) == list(range(300))
    assert raw.requests - before == 3          # 125 + 125 + 50
    await bus.close()


def test_plan_blocks_merges_near_spans_only():
    from hems.devices.drivers.engine import plan_blocks
    spans = [("input", 0x0C, 2), ("input", 0x00, 2), ("input", 0x02, 2), ("input", 0x34, 2),
             ("holding", 0x02, 2)]
    assert plan_blocks(spans) == [("holding", 2, 2), ("input", 0, 4), ("input", 0x0C, 2),
                                  ("input", 0x34, 2)]
    assert plan_blocks([("holding", 0, 2), ("holding", 200, 2)], gap=125) == [
        ("holding", 0, 2), ("holding", 200, 2)]              # never beyond 125 registers
    assert plan_blocks([("holding", 0, 2), ("holding", 100, 2)], gap=125) == [("holding", 0, 102)]


def test_rtu_inter_frame_gap():
    from hems.devices.modbus import SerialEndpoint
    assert SerialEndpoint("/dev/ttyUSB0", 9600).frame_gap_s == pytest.approx(3.5 * 11 / 9600)
    assert SerialEndpoint("/dev/ttyUSB0", 19200).frame_gap_s == pytest.approx(0.002005, abs=1e-6)
    assert SerialEndpoint("/dev/ttyUSB0", 115200).frame_gap_s == 0.00175   # the spec's floor
