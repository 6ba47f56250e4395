"""An independent check: pysunspec2 (the SunSpec Alliance's client) scans our SunSpec simulators."""
from __future__ import annotations

import asyncio

import pytest
import sunspec2.modbus.client as sunspec_client

from hems.devices.sim import ChargePoint, SimServer, SunSpecCharger, SunSpecMeter, SunSpecPvInverter


def _scan(port: int) -> dict[int, dict[str, object]]:
    device = sunspec_client.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port,
                                                         timeout=5)
    try:
        device.scan()
        return {mid: {name: pt.cvalue for name, pt in models[0].points.items()}
                for mid, models in device.models.items() if isinstance(mid, int)}
    finally:
        device.close()


async def _scan_served(device) -> dict[int, dict[str, object]]:
    async with SimServer(device) as server:
        return await asyncio.to_thread(_scan, server.port)


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_pysunspec2_reads_inverter(base: int, clock) -> None:
    pv = SunSpecPvInverter(clock=clock, base=base, rating_w=5000, serial="PV-42")
    pv.available_w = 3456
    models = await _scan_served(pv)
    assert sorted(models) == [1, 103, 120, 123]
    assert models[1]["Mn"] == "hems" and models[1]["SN"] == "PV-42"
    assert models[103]["W"] == 3456
    assert models[103]["PhVphA"] == pytest.approx(230.0)
    assert models[103]["VA"] is None                      # not implemented -> absent
    assert models[120]["WRtg"] == 5000
    assert models[123]["WMaxLimPct"] == pytest.approx(100.0)


async def test_pysunspec2_reads_meter(clock) -> None:
    meter = SunSpecMeter(clock=clock, base=50000)
    meter.set_power((-1000.0, 250.0, 100.0))
    models = await _scan_served(meter)
    assert sorted(models) == [1, 203]
    m = models[203]
    assert m["W"] == -650 and (m["WphA"], m["WphB"], m["WphC"]) == (-1000, 250, 100)
    assert m["AphA"] == pytest.approx(1000 / 230, abs=0.01)
    assert m["VAR"] is None


async def test_pysunspec2_reads_charger(clock) -> None:
    charger = SunSpecCharger(clock=clock, base=0, plant=ChargePoint(soc_pct=61.7))
    models = await _scan_served(charger)
    assert sorted(models) == [1, 701, 702, 704, 713]
    assert models[713]["SoC"] == pytest.approx(61.7)
    assert models[713]["WHRtg"] == pytest.approx(60000)
    assert models[702]["WMaxRtg"] == pytest.approx(7360)
    assert models[704]["WSetEna"] == 0 and models[704]["WSetMod"] == 1
    assert models[701]["InvSt"] == 7 and models[701]["W"] == 0
    assert models[701]["TotVarhInj"] is None


def _write_wset(port: int, wset_w: int, revert_s: int) -> dict[str, object]:
    device = sunspec_client.SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr="127.0.0.1", ipport=port,
                                                         timeout=5)
    try:
        device.scan()
        ctl = device.models[704][0]
        ctl.WSetRvrtTms.cvalue = revert_s
        ctl.WSet.cvalue = wset_w
        ctl.WSetMod.cvalue = 1
        ctl.WSetEna.cvalue = 1
        ctl.write()
        ctl.read()
        return {name: ctl.points[name].cvalue for name in ("WSet", "WSetEna", "WSetRvrtTms", "WSetRvrtRem")}
    finally:
        device.close()


async def test_pysunspec2_writes_the_charger_setpoint(clock) -> None:
    charger = SunSpecCharger(clock=clock, plant=ChargePoint(soc_pct=30.0))
    async with SimServer(charger) as server:
        back = await asyncio.to_thread(_write_wset, server.port, -4200, 45)
    assert back == {"WSet": -4200, "WSetEna": 1, "WSetRvrtTms": 45, "WSetRvrtRem": 45}
    assert charger.setpoint_w == 4200                      # DER - = charging; hems + = charging
    clock.advance(5)
    charger.refresh(clock.now())
    assert charger.plant.actual_w == pytest.approx(4200)


async def test_pysunspec2_three_phase_charger(clock) -> None:
    from hems.devices.sim import ChargerSpec
    plant = ChargePoint(spec=ChargerSpec(phases=3, max_current_a=16), soc_pct=50.0)
    charger = SunSpecCharger(clock=clock, plant=plant)
    charger.control.set("WSet", -6900)
    charger.control.set_raw("WSetEna", 1)
    charger.after_write(charger.control.address("WSet"), 2, clock.now())
    clock.advance(5)
    models = await _scan_served(charger)
    m = models[701]
    assert m["ACType"] == 2 and m["W"] == -6900
    assert (m["WL1"], m["WL2"], m["WL3"]) == (-2300, -2300, -2300)
    assert m["AL3"] == pytest.approx(10.0) and m["LLV"] == pytest.approx(398.4, abs=0.1)
