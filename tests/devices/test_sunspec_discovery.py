"""SunSpec discovery and profile-driven reads on hand-built SunSpec register images."""
import pytest

from hems.devices.drivers import MeterDriver, PvDriver
from hems.devices.modbus import ModbusBus, SunSpecNotFound, TcpEndpoint, discover, read_common
from hems.devices.modbus.codec import encode
from hems.devices.profiles import load_profile
from tests.devices.rawserver import RawModbusServer, RawUnit, sunspec_image

NI16 = 0x8000


def common_body() -> list[int]:
    body = [0] * 66
    body[0:16] = encode("ACME", "string", length=16)
    body[16:32] = encode("Meter 3000", "string", length=16)
    body[48:64] = encode("SN-42", "string", length=16)
    body[64] = 1
    return body


def meter_203_body(w=-1234, sf=0, phases=(-400, -400, -434), tot_imp=5000, tot_exp=None):
    body = [0] * 105
    o = lambda off: off - 2   # body index of a model offset  # noqa: E731
    body[o(18)] = w & 0xFFFF
    for i, p in enumerate(phases):
        body[o(19 + i)] = p & 0xFFFF
    body[o(22)] = sf & 0xFFFF
    body[o(16)], body[o(17)] = 5000, (-2) & 0xFFFF              # 50.00 Hz
    body[o(8)], body[o(9)], body[o(10)], body[o(15)] = 2301, 2302, 2303, (-1) & 0xFFFF
    body[o(3)], body[o(4)], body[o(5)], body[o(6)] = NI16, NI16, NI16, NI16  # no currents
    imp = encode(tot_imp, "uint32")
    body[o(46)], body[o(47)] = imp
    if tot_exp is not None:
        body[o(38)], body[o(39)] = encode(tot_exp, "uint32")    # else 0 = not implemented
    body[o(54)] = 0
    return body


async def _serve(image):
    server = RawModbusServer({1: RawUnit(holding=image)})
    await server.start()
    return server


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_discovery_at_each_base(base):
    image = sunspec_image(base, [(1, common_body()), (203, meter_203_body())])
    server = await _serve(image)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    smap = await discover(bus.unit(1))
    assert smap.base == base
    assert smap.model_ids == (1, 203)
    assert smap.find(201, 203).address == base + 2 + 68
    info = await read_common(bus.unit(1), smap)
    assert (info.manufacturer, info.model, info.serial) == ("ACME", "Meter 3000", "SN-42")
    await bus.close()
    await server.stop()


async def test_not_sunspec():
    server = await _serve({40000: 1, 40001: 2, 0: 3, 1: 4})
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    with pytest.raises(SunSpecNotFound, match="40000: no SunS marker; 0: no SunS marker; "
                                              "50000: exception 2"):
        await discover(bus.unit(1))
    await bus.close()
    await server.stop()


async def test_meter_values_signs_and_absent_points():
    image = sunspec_image(40000, [(1, common_body()), (203, meter_203_body(w=-1234, sf=1))])
    server = await _serve(image)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    meter = MeterDriver("m", load_profile("sunspec", role="meter"), bus.unit(1))
    r = await meter.read()
    assert r.grid_power_w == -12340.0                 # W * 10^W_SF, + = import
    assert r.phase_power_w == (-4000.0, -4000.0, -4340.0)
    assert r.phase_voltage_v == pytest.approx((230.1, 230.2, 230.3))
    assert r.frequency_hz == pytest.approx(50.0)
    assert r.phase_current_a == ()                   # 0x8000: not implemented, not a number
    assert r.import_wh == 5000.0
    assert r.export_wh is None                        # acc32 0: not implemented
    await bus.close()
    await server.stop()


async def test_pv_without_optional_models():
    body = [0] * 50
    body[14 - 2], body[15 - 2] = 3456, 0
    body[24 - 2: 26 - 2] = encode(123456, "uint32")
    body[26 - 2] = 0
    body[38 - 2] = 4
    image = sunspec_image(0, [(1, common_body()), (103, body)])
    server = await _serve(image)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    pv = PvDriver("pv", load_profile("sunspec", role="pv"), bus.unit(1))
    r = await pv.read()
    assert (r.pv_power_w, r.energy_wh, r.rated_power_w, r.limit_pct) == (3456.0, 123456.0, None, None)
    await bus.close()
    await server.stop()


async def test_required_model_missing_is_a_clear_error():
    image = sunspec_image(40000, [(1, common_body())])
    server = await _serve(image)
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0)
    meter = MeterDriver("m", load_profile("sunspec", role="meter"), bus.unit(1))
    with pytest.raises(Exception, match=r"needs \['grid_power_w'\], not on this device "
                                        r"\(SunSpec models \[1\]\)"):
        await meter.read()
    await bus.close()
    await server.stop()
