"""SunSpec simulators read back over real Modbus TCP with a plain pymodbus client."""
from __future__ import annotations

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hems.devices.sim import ChargePoint, SunSpecCharger, SunSpecMeter, SunSpecPvInverter
from .helpers import read, s16, serve, walk_chain

DT = AsyncModbusTcpClient.DATATYPE


@pytest.mark.parametrize("base", [40000, 0, 50000])
async def test_chain_walk_at_each_base(base: int, clock) -> None:
    cases = [
        (SunSpecPvInverter(clock=clock, base=base), [(1, 66), (103, 50), (120, 26), (123, 24)]),
        (SunSpecMeter(clock=clock, base=base), [(1, 66), (203, 105)]),
        (SunSpecCharger(clock=clock, base=base), [(1, 66), (701, 153), (702, 50), (704, 65), (713, 7)]),
    ]
    for device, expected in cases:
        async with serve(device) as client:
            chain = await walk_chain(client, base)
            assert [(m, n) for m, _, n in chain] == expected
            assert chain[0][1] == base + 2
            # nothing is served past the end marker
            end = chain[-1][1] + chain[-1][2] + 2
            assert await read(client, end, 2) == [0xFFFF, 0]
            rr = await client.read_holding_registers(end + 2, count=1, device_id=1)
            assert rr.isError() and rr.exception_code == 2


async def test_common_model_strings(clock) -> None:
    async with serve(SunSpecMeter(clock=clock, serial="ABC123")) as client:
        mn = client.convert_from_registers(await read(client, 40004, 16), DT.STRING)
        sn = client.convert_from_registers(await read(client, 40004 + 48, 16), DT.STRING)
        assert mn.rstrip("\x00") == "hems" and sn.rstrip("\x00") == "ABC123"


async def test_inverter_values_scale_factors_and_sentinels(clock) -> None:
    pv = SunSpecPvInverter(clock=clock, rating_w=6000, voltage_v=231.5)
    pv.available_w = 4321
    async with serve(pv) as client:
        (_, _, _), (_, inv, _), (_, nameplate, _), _ = await walk_chain(client, 40000)
        regs = await read(client, inv, 52)
        a_sf, v_sf, w_sf, hz_sf = s16(regs[6]), s16(regs[13]), s16(regs[15]), s16(regs[17])
        assert s16(regs[14]) * 10 ** w_sf == pytest.approx(4321)
        assert regs[10] * 10 ** v_sf == pytest.approx(231.5)
        assert regs[2] * 10 ** a_sf == pytest.approx(4321 / 231.5, abs=0.02)
        assert regs[16] * 10 ** hz_sf == pytest.approx(50.0)
        assert regs[38] == 4                                 # St = MPPT
        assert regs[7] == 0xFFFF and regs[27] == 0xFFFF      # PPVphAB, DCA: uint16 not implemented
        assert regs[18] == 0x8000 and regs[19] == 0x8000     # VA, VA_SF: int16/sunssf not implemented
        assert regs[39] == 0xFFFF                            # StVnd: enum16 not implemented
        rating = await read(client, nameplate, 5)
        assert rating[3] * 10 ** s16(rating[4]) == 6000
        pv.available_w = 800                                 # live: the next read sees it
        assert s16((await read(client, inv + 14))[0]) == 800


async def test_inverter_energy_integrates_over_clock_time(clock) -> None:
    pv = SunSpecPvInverter(clock=clock)
    pv.available_w = 3000
    async with serve(pv) as client:
        wh_addr = pv.inverter.address("WH")
        before = client.convert_from_registers(await read(client, wh_addr, 2), DT.UINT32)
        clock.advance(1800)
        after = client.convert_from_registers(await read(client, wh_addr, 2), DT.UINT32)
        assert after - before == pytest.approx(1500, abs=1)


async def test_inverter_curtailment(clock) -> None:
    pv = SunSpecPvInverter(clock=clock, rating_w=6000)
    pv.available_w = 5000
    async with serve(pv) as client:
        pct, ena, rvrt = (pv.controls.address(n) for n in ("WMaxLimPct", "WMaxLim_Ena", "WMaxLimPct_RvrtTms"))
        sf = s16((await read(client, pv.controls.address("WMaxLimPct_SF")))[0])
        assert sf == -1
        assert not (await client.write_register(pct, 500, device_id=1)).isError()   # 50.0 %
        assert s16((await read(client, pv.inverter.address("W")))[0]) == 5000       # not enabled yet
        assert not (await client.write_register(ena, 1, device_id=1)).isError()
        assert s16((await read(client, pv.inverter.address("W")))[0]) == 3000
        assert (await read(client, pv.inverter.address("St")))[0] == 5              # THROTTLED
        assert pv.limit_pct == pytest.approx(50.0)
        # above 100 % is refused with "illegal value" and changes nothing
        rr = await client.write_register(pct, 1500, device_id=1)
        assert rr.isError() and rr.exception_code == 3
        assert pv.limit_pct == pytest.approx(50.0)
        # revert timeout: no rewrite within 60 s lifts the limit
        assert not (await client.write_register(rvrt, 60, device_id=1)).isError()
        clock.advance(59)
        assert s16((await read(client, pv.inverter.address("W")))[0]) == 3000
        clock.advance(2)
        assert s16((await read(client, pv.inverter.address("W")))[0]) == 5000
        assert pv.limit_pct is None


async def test_read_only_points_refuse_writes(clock) -> None:
    pv = SunSpecPvInverter(clock=clock)
    async with serve(pv) as client:
        rr = await client.write_register(pv.inverter.address("W"), 100, device_id=1)
        assert rr.isError() and rr.exception_code == 2
        rr = await client.read_input_registers(40000, count=2, device_id=1)
        assert rr.isError() and rr.exception_code == 1


async def test_meter_phases_energy_and_sign(clock) -> None:
    meter = SunSpecMeter(clock=clock)
    meter.set_power((1200.0, -300.0, 450.0))
    async with serve(meter) as client:
        m = meter.meter.start
        regs = await read(client, m, 107)
        w_sf, a_sf = s16(regs[22]), s16(regs[6])
        assert s16(regs[18]) * 10 ** w_sf == pytest.approx(1350)          # + = import
        assert [s16(r) * 10 ** w_sf for r in regs[19:22]] == pytest.approx([1200, -300, 450])
        assert s16(regs[4]) * 10 ** a_sf == pytest.approx(300 / 230, abs=0.01)
        assert regs[28] == 0x8000                                          # VAR not implemented
        clock.advance(3600)
        regs = await read(client, m, 107)
        tot_sf = s16(regs[54])
        def acc(offset: int) -> float:
            return client.convert_from_registers(regs[offset:offset + 2], DT.UINT32) * 10 ** tot_sf
        assert acc(46) == pytest.approx(1350, abs=1) and acc(38) == 0       # totals net the phases
        assert (acc(48), acc(50), acc(52)) == pytest.approx((1200, 0, 450), abs=1)   # import per phase
        assert (acc(40), acc(42), acc(44)) == pytest.approx((0, 300, 0), abs=1)      # export per phase


async def test_single_phase_meter_201(clock) -> None:
    meter = SunSpecMeter(clock=clock, meter_model=201, base=0)
    meter.set_power(-2000.0)
    async with serve(meter) as client:
        chain = await walk_chain(client, 0)
        assert [m for m, _, _ in chain] == [1, 201]
        regs = await read(client, chain[1][1], 23)
        assert s16(regs[18]) == -2000 and s16(regs[19]) == -2000
        assert regs[20] == 0x8000 and regs[21] == 0x8000                  # WphB, WphC absent


async def test_charger_wset_sign_and_measurement(clock) -> None:
    plant = ChargePoint(soc_pct=40.0)
    charger = SunSpecCharger(clock=clock, plant=plant)
    async with serve(charger) as client:
        wset = charger.control.address("WSet")
        await client.write_registers(wset, client.convert_to_registers(-3000, DT.INT32), device_id=1)
        await client.write_register(charger.control.address("WSetEna"), 1, device_id=1)
        assert charger.setpoint_w == 3000                                  # charging, hems sign
        clock.advance(5)
        w = s16((await read(client, charger.measure.address("W")))[0])
        assert w == -3000                                                  # absorbing: negative
        assert (await read(client, charger.measure.address("InvSt")))[0] == 3
        clock.advance(3600)
        soc_raw, = await read(client, charger.storage.address("SoC"))
        pct_sf = s16((await read(client, charger.storage.address("Pct_SF")))[0])
        # 3 kWh AC x 0.9 into 60 kWh: +4.5 %
        assert soc_raw * 10 ** pct_sf == pytest.approx(44.5, abs=0.1)
        # discharge: positive WSet
        await client.write_registers(wset, client.convert_to_registers(2500, DT.INT32), device_id=1)
        clock.advance(5)
        assert s16((await read(client, charger.measure.address("W")))[0]) == 2500
        assert plant.actual_w == pytest.approx(-2500)


async def test_charger_below_minimum_current_gives_zero(clock) -> None:
    charger = SunSpecCharger(clock=clock)           # 1 phase, 230 V: minimum 6 A = 1380 W
    async with serve(charger) as client:
        await client.write_registers(charger.control.address("WSet"),
                                     client.convert_to_registers(-1000, DT.INT32), device_id=1)
        await client.write_register(charger.control.address("WSetEna"), 1, device_id=1)
        clock.advance(10)
        assert s16((await read(client, charger.measure.address("W")))[0]) == 0
        assert (await read(client, charger.measure.address("InvSt")))[0] == 7   # STANDBY


async def test_charger_revert_timeout(clock) -> None:
    charger = SunSpecCharger(clock=clock)
    async with serve(charger) as client:
        c = charger.control
        await client.write_registers(c.address("WSetRvrtTms"), client.convert_to_registers(30, DT.UINT32),
                                     device_id=1)
        await client.write_registers(c.address("WSet"), client.convert_to_registers(4000, DT.INT32),
                                     device_id=1)
        await client.write_register(c.address("WSetEna"), 1, device_id=1)
        clock.advance(20)
        assert s16((await read(client, charger.measure.address("W")))[0]) == 4000
        rem = client.convert_from_registers(await read(client, c.address("WSetRvrtRem"), 2), DT.UINT32)
        assert rem == 10
        # a rewrite (the heartbeat) restarts the timer
        await client.write_registers(c.address("WSet"), client.convert_to_registers(4000, DT.INT32),
                                     device_id=1)
        clock.advance(25)
        assert s16((await read(client, charger.measure.address("W")))[0]) == 4000
        clock.advance(6)                            # 31 s after the last write
        await read(client, charger.measure.address("W"))
        clock.advance(5)                            # ramp down
        assert s16((await read(client, charger.measure.address("W")))[0]) == 0
        assert (await read(client, c.address("WSetEna")))[0] == 0
        assert charger.reverts == 1 and charger.setpoint_w == 0


async def test_charger_unplugged_reads_absent_soc(clock) -> None:
    plant = ChargePoint(plugged=False)
    charger = SunSpecCharger(clock=clock, plant=plant)
    async with serve(charger) as client:
        st = charger.measure.address("St")
        assert await read(client, st, 2) == [0, 0]                          # St OFF, InvSt OFF
        assert (await read(client, charger.storage.address("SoC")))[0] == 0xFFFF
        plant.plug(soc_pct=72.3)
        assert await read(client, st, 2) == [1, 7]
        assert (await read(client, charger.storage.address("SoC")))[0] == 723


async def test_charger_refuses_bad_enum(clock) -> None:
    charger = SunSpecCharger(clock=clock)
    async with serve(charger) as client:
        rr = await client.write_register(charger.control.address("WSetEna"), 7, device_id=1)
        assert rr.isError() and rr.exception_code == 3
        rr = await client.write_register(charger.measure.address("W"), 7, device_id=1)
        assert rr.isError() and rr.exception_code == 2


async def test_unknown_unit_over_tcp_gets_gateway_exception(clock) -> None:
    async with serve(SunSpecMeter(clock=clock)) as client:
        rr = await client.read_holding_registers(40000, count=2, device_id=7)
        assert rr.isError() and rr.exception_code == 0x0B


async def test_fault_injection_silent_and_exception(clock) -> None:
    from pymodbus.constants import ExcCodes
    from pymodbus.exceptions import ModbusIOException

    meter = SunSpecMeter(clock=clock)
    async with serve(meter, timeout_s=0.3) as client:
        meter.answer_exception = ExcCodes.DEVICE_BUSY
        rr = await client.read_holding_registers(40000, count=2, device_id=1)
        assert rr.isError() and rr.exception_code == ExcCodes.DEVICE_BUSY
        meter.answer_exception = None
        meter.silent = True
        with pytest.raises(ModbusIOException):
            await client.read_holding_registers(40000, count=2, device_id=1)
        meter.silent = False
        assert await read(client, 40000, 2) == [0x5375, 0x6E53]
