"""Modbus RTU over a real serial line (socat pty pair): a meter and a charger share one bus."""
from __future__ import annotations

import asyncio
import io

import pytest

from hems.devices.factory import build_devices
from hems.devices.modbus import BusRegistry, ModbusBus, SerialEndpoint
from hems.devices.poller import DevicePoller
from hems.devices.scan import parse_units, report, scan
from hems.devices.sim import ChargePoint, SunSpecCharger

eastron = pytest.importorskip("hems.devices.sim.eastron")
serial_pair = pytest.importorskip("hems.devices.sim.serial_pair")


class Cfg:
    """Shaped like hems.config.DeviceConfig for an RTU device."""

    def __init__(self, name, role, profile, port, unit):
        self.name, self.role, self.profile, self.unit = name, role, profile, unit
        self.transport, self.serial_port, self.baudrate = "rtu", port, 19200
        self.parity, self.stopbits = "N", 1
        self.poll_interval_s, self.timeout_s = 1.0, 1.0
        self.host = self.port = None


@pytest.fixture
async def bus_pair(serve, clock):
    pair = serial_pair.SerialPair()
    await pair.start()
    meter = eastron.SDM630(unit_id=2, clock=clock)
    meter.set_power((1200.0, 300.0, -100.0))
    charger = SunSpecCharger(plant=ChargePoint(soc_pct=35.0), unit_id=5, clock=clock)
    await serve([meter, charger], serial_port=pair.server_port, baudrate=19200)
    yield pair, meter, charger
    await pair.stop()


async def test_meter_and_charger_share_one_serial_bus(bus_pair, clock):
    pair, meter_sim, charger_sim = bus_pair
    buses = BusRegistry()
    devices = build_devices([Cfg("grid", "meter", "sdm630", pair.client_port, 2),
                             Cfg("ev", "charger", "sunspec", pair.client_port, 5)],
                            clock=clock, buses=buses)
    assert len(buses) == 1                                   # one connection for both
    bus = next(iter(buses._buses.values()))
    pollers = [DevicePoller(d, poll_interval_s=1, timeout_s=2, clock=clock) for d in devices.values()]
    for _ in range(3):                                       # concurrent polls, one bus
        readings = await asyncio.gather(*(p.poll_once() for p in pollers))
        assert all(r is not None for r in readings)
    grid, ev = readings
    assert grid.grid_power_w == pytest.approx(1400.0, abs=0.01)
    assert ev.soc_pct == pytest.approx(35.0) and ev.plugged
    await devices["ev"].write_power(2500.0)
    assert charger_sim.setpoint_w == pytest.approx(2500.0)
    clock.advance(5)
    r = await pollers[1].poll_once()
    assert r.ev_power_w == pytest.approx(2500.0, abs=1.0)
    assert bus.requests > 10 and all(p.status()["failures"] == 0 for p in pollers)
    await buses.close_all()


async def test_silent_unit_on_a_serial_bus_times_out(bus_pair):
    pair, _, _ = bus_pair
    bus = ModbusBus(SerialEndpoint(pair.client_port, 19200), timeout_s=0.3)
    from hems.devices.modbus import ModbusError
    with pytest.raises(ModbusError, match="unit 9: read holding 40000\\+2: no answer"):
        await bus.unit(9).read(40000, 2)
    assert await bus.unit(2).read(0x14, 2) is not None        # the bus still works after it
    await bus.close()


async def test_scan_a_serial_bus(bus_pair):
    pair, _, _ = bus_pair
    result = await scan(ModbusBus(SerialEndpoint(pair.client_port, 19200), timeout_s=0.3),
                        parse_units("1-6"))
    assert [(f.unit, f.role, f.profile) for f in result.found] == [
        (2, "meter", "sdm630"), (5, "charger", "sunspec")]
    assert result.silent == [1, 3, 4, 6]
    out = io.StringIO()
    report(result, SerialEndpoint(pair.client_port, 19200), out)
    text = out.getvalue()
    assert 'transport = "rtu"' in text and f'serial_port = "{pair.client_port}"' in text
    assert "No answer from 4 unit id(s): 1, 3-4, 6" in text


async def test_a_silent_device_does_not_stop_the_other_on_the_bus(bus_pair, clock):
    pair, meter_sim, charger_sim = bus_pair
    buses = BusRegistry()
    cfgs = [Cfg("grid", "meter", "sdm630", pair.client_port, 2),
            Cfg("ev", "charger", "sunspec", pair.client_port, 5)]
    for c in cfgs:
        c.timeout_s = 0.3
    devices = build_devices(cfgs, clock=clock, buses=buses)
    grid, ev = (DevicePoller(d, poll_interval_s=1, timeout_s=0.3, clock=clock, retries=1)
                for d in devices.values())
    assert await grid.poll_once() and await ev.poll_once()
    meter_sim.silent = True
    for _ in range(3):
        clock.advance(1)
        g, e = await asyncio.gather(grid.poll_once(), ev.poll_once())
        assert g is None and e is not None and e.soc_pct == pytest.approx(35.0)
    assert not grid.status()["online"] and "no answer" in grid.status()["last_error"]
    assert not grid.is_fresh(2.5) and ev.is_fresh(2.5)
    meter_sim.silent = False
    assert (await grid.poll_once()).grid_power_w == pytest.approx(1400.0, abs=0.01)
    await buses.close_all()


async def test_busy_exception_replies(serve, clock):
    from pymodbus.constants import ExcCodes
    meter = eastron.SDM630(clock=clock)
    meter.set_power(500.0)
    server = await serve(meter)
    buses = BusRegistry()
    cfg = Cfg("grid", "meter", "sdm630", None, 1)
    cfg.transport, cfg.host, cfg.port = "tcp", "127.0.0.1", server.port
    poller = DevicePoller(build_devices([cfg], clock=clock, buses=buses)["grid"],
                          poll_interval_s=1, timeout_s=1, clock=clock)
    meter.answer_exception = ExcCodes.DEVICE_BUSY
    assert await poller.poll_once() is None
    assert "exception 6 (device busy)" in poller.status()["last_error"]
    meter.answer_exception = None
    assert (await poller.poll_once()).grid_power_w == pytest.approx(500.0)
    await buses.close_all()
