"""The profile engine on a device that lacks some registers, and a charger refusing control."""
from __future__ import annotations

import logging

import pytest

from hems.devices.drivers import MeterDriver
from hems.devices.factory import make_driver
from hems.devices.modbus import ModbusBus, TcpEndpoint
from hems.devices.modbus.codec import encode
from hems.devices.ports import DeviceError
from hems.devices.profiles import load_profile
from tests.devices.rawserver import RawModbusServer, RawUnit


async def test_optional_registers_the_device_lacks_are_dropped_once(caplog):
    unit = RawUnit()
    # an SDM630 profile on a meter that only has L1 values, total power and frequency
    for addr, value in ((0x00, 231.0), (0x06, 4.0), (0x0C, 920.0), (0x34, 920.0), (0x46, 50.0),
                        (0x48, 12.5), (0x4A, 0.5)):
        unit.set_block(addr, encode(value, "float32"), "input")
    server = RawModbusServer({1: unit})
    await server.start()
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    meter = MeterDriver("m", load_profile("sdm630"), bus.unit(1))
    caplog.set_level(logging.WARNING, logger="hems.devices.drivers.engine")
    r = await meter.read()
    assert r.grid_power_w == 920.0 and r.phase_voltage_v == (231.0,) and r.import_wh == 12500.0
    dropped = {rec.getMessage().split(": ")[1].split(" ")[0] for rec in caplog.records}
    assert dropped == {f"phase_{q}_l{i}" for q in ("voltage_v", "current_a", "power_w") for i in (2, 3)}
    caplog.clear()
    before = server.requests
    r = await meter.read()
    assert r.grid_power_w == 920.0 and not caplog.records        # no new warnings
    assert server.requests - before <= 6                           # dropped points not re-read
    await bus.close()
    await server.stop()


async def test_missing_required_register_is_an_error():
    unit = RawUnit()
    unit.set_block(0x46, encode(50.0, "float32"), "input")
    server = RawModbusServer({1: unit})
    await server.start()
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    with pytest.raises(DeviceError, match=r"read input 52\+2: exception 2"):
        await MeterDriver("m", load_profile("sdm630"), bus.unit(1)).read()
    await bus.close()
    await server.stop()


async def test_charger_that_refuses_remote_control():
    unit = RawUnit()
    unit.set_block(81, [0] * 8)
    unit.set_block(257, [0] * 4)
    unit.set_block(514, [7400])
    unit.set_block(526, [0])
    unit.set_block(537, [2, 0, 0, 0, 0, 0])
    server = RawModbusServer({1: unit})
    await server.start()
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    ch = make_driver("q", load_profile("wallbox_quasar"), bus.unit(1))
    real_reply = server._reply

    def stuck_in_user_mode(unit_id, pdu):          # accepts the write, keeps 81 at 0
        reply = real_reply(unit_id, pdu)
        server.units[1].holding[81] = 0
        return reply
    server._reply = stuck_in_user_mode
    with pytest.raises(DeviceError, match="did not accept on_connect write at 81 "
                                          r"\(wrote 1, reads 0\)"):
        await ch.write_power(2000.0)
    assert all(addr != 260 for _, addr, _ in server.writes)      # no setpoint was written
    await bus.close()
    await server.stop()
