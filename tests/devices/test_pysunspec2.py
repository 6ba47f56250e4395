"""An independent check: pysunspec2 (the SunSpec Alliance client) reads the SunSpec simulators
and gets the same values as the hems drivers."""
from __future__ import annotations

import asyncio

import pytest
from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP

from hems.devices.factory import make_driver
from hems.devices.modbus import TcpEndpoint, discover, read_common
from hems.devices.profiles import load_profile
from hems.devices.sim import ChargePoint, SunSpecCharger, SunSpecMeter, SunSpecPvInverter


def _scan(port: int) -> dict:
    """Synchronous pysunspec2 scan; returns {model id: {point: cvalue}} of the first instances."""
    dev = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port, timeout=2)
    try:
        dev.scan()
        out = {}
        for key, instances in dev.models.items():
            if isinstance(key, int):
                m = instances[0]
                out[key] = {name: p.cvalue for name, p in m.points.items()}
        return out
    finally:
        dev.close()


async def _hems(role, port, buses, clock):
    link = buses.get(TcpEndpoint("127.0.0.1", port), timeout_s=1.0).unit(1)
    drv = make_driver(role, load_profile("sunspec", role=role), link, clock)
    return drv, link


async def test_meter_same_values(serve, buses, clock):
    sim = SunSpecMeter(meter_model=203, clock=clock)
    sim.set_power((1234.0, -567.0, 89.0))
    server = await serve(sim)
    ref = (await asyncio.to_thread(_scan, server.port))[203]
    drv, link = await _hems("meter", server.port, buses, clock)
    r = await drv.read()
    assert r.grid_power_w == pytest.approx(ref["W"])
    assert r.phase_power_w == pytest.approx((ref["WphA"], ref["WphB"], ref["WphC"]))
    assert r.phase_voltage_v == pytest.approx((ref["PhVphA"], ref["PhVphB"], ref["PhVphC"]))
    assert r.frequency_hz == pytest.approx(ref["Hz"])
    assert r.import_wh == pytest.approx(ref["TotWhImp"]) if ref["TotWhImp"] else r.import_wh is None
    info = await read_common(link, await discover(link))
    common = (await asyncio.to_thread(_scan, server.port))[1]
    assert (info.manufacturer, info.model, info.serial) == (common["Mn"], common["Md"], common["SN"])


async def test_pv_same_values(serve, buses, clock):
    sim = SunSpecPvInverter(inverter_model=103, rating_w=5000, clock=clock)
    sim.available_w = 3210.0
    server = await serve(sim)
    drv, _ = await _hems("pv", server.port, buses, clock)
    await drv.write_limit_pct(42.5)
    scan = await asyncio.to_thread(_scan, server.port)
    r = await drv.read()
    assert r.pv_power_w == pytest.approx(scan[103]["W"])
    assert r.rated_power_w == pytest.approx(scan[120]["WRtg"])
    assert r.limit_pct == pytest.approx(scan[123]["WMaxLimPct"]) == pytest.approx(42.5)
    assert scan[123]["WMaxLim_Ena"] == 1


async def test_charger_same_values(serve, buses, clock):
    sim = SunSpecCharger(plant=ChargePoint(soc_pct=63.4), clock=clock)
    server = await serve(sim)
    drv, _ = await _hems("charger", server.port, buses, clock)
    await drv.write_power(-1800.0)
    clock.advance(5)
    r = await drv.read()
    scan = await asyncio.to_thread(_scan, server.port)
    assert r.ev_power_w == pytest.approx(-scan[701]["W"])        # DER + = generation
    assert r.setpoint_w == pytest.approx(-scan[704]["WSet"])      # DER - = charging
    assert scan[704]["WSetEna"] == 1 and scan[704]["WSetMod"] == 1
    assert r.soc_pct == pytest.approx(scan[713]["SoC"])
    assert r.max_charge_w == pytest.approx(scan[702]["WChaRteMaxRtg"])
    assert r.max_discharge_w == pytest.approx(scan[702]["WDisChaRteMaxRtg"])
