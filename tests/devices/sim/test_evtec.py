"""EVtec BiDiPro 10 simulator: int32 setpoint, per-mille SoC, accept windows, communication timeout."""
from __future__ import annotations

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hems.devices.sim import ChargePoint
from hems.devices.sim.evtec import EVTEC_CHARGER, EvtecBiDiPro
from .helpers import read, serve

DT = AsyncModbusTcpClient.DATATYPE


async def _i32(client, address: int) -> int:
    return client.convert_from_registers(await read(client, address, 2), DT.INT32)


async def _f32(client, address: int) -> float:
    return client.convert_from_registers(await read(client, address, 2), DT.FLOAT32)


async def _setpoint(client, base: int, power_w: int):
    return await client.write_registers(base + 86, client.convert_to_registers(power_w, DT.INT32),
                                        device_id=1)


async def test_identity_and_connector_discovery(clock) -> None:
    evtec = EvtecBiDiPro(clock=clock, connector=2)
    async with serve(evtec) as client:
        model = client.convert_from_registers(await read(client, 26, 10), DT.STRING)
        assert "crema" in model
        # the active connector is the one with a non-zero state/session
        active = [n for n in range(1, 10) if any(await read(client, n * 100, 6))]
        assert active == [2]


async def test_setpoint_soc_and_power(clock) -> None:
    plant = ChargePoint(spec=EVTEC_CHARGER, soc_pct=48.25)
    evtec = EvtecBiDiPro(clock=clock, plant=plant)
    async with serve(evtec) as client:
        assert await _i32(client, 112) == 482                            # per mille (48.2 %)
        assert await _i32(client, 100) == 10                             # connected, idle
        assert await _f32(client, 122) == pytest.approx(-10000.0)        # V2G offered: car limit
        assert await _f32(client, 130) == pytest.approx(10005.0)         # 3 x 14.5 A x 230 V
        assert not (await _setpoint(client, 100, 6000)).isError()
        clock.advance(10)
        assert await _f32(client, 110) == pytest.approx(6000.0)
        assert await _i32(client, 100) == 7                              # charging
        assert not (await _setpoint(client, 100, -5000)).isError()
        clock.advance(10)
        assert await _f32(client, 110) == pytest.approx(-5000.0)
        assert await _i32(client, 100) == 8                              # discharging
        assert plant.actual_w == pytest.approx(-5000.0)
        rr = await _setpoint(client, 100, 20000)                         # outside the window
        assert rr.isError() and rr.exception_code == 3
        assert await _i32(client, 186) == -5000


async def test_no_car_accepts_only_zero(clock) -> None:
    evtec = EvtecBiDiPro(clock=clock, plant=ChargePoint(spec=EVTEC_CHARGER, plugged=False))
    async with serve(evtec) as client:
        assert await _i32(client, 100) == 1 and await _i32(client, 112) == 0
        rr = await _setpoint(client, 100, 3000)
        assert rr.isError() and rr.exception_code == 3
        assert not (await _setpoint(client, 100, 0)).isError()


async def test_communication_timeout(clock) -> None:
    evtec = EvtecBiDiPro(clock=clock)
    async with serve(evtec) as client:
        rr = await client.write_registers(42, client.convert_to_registers(601, DT.INT32), device_id=1)
        assert rr.isError() and rr.exception_code == 3                   # 600 s at most
        await client.write_registers(42, client.convert_to_registers(60, DT.INT32), device_id=1)
        await _setpoint(client, 100, -7000)
        clock.advance(50)
        assert await _f32(client, 110) == pytest.approx(-7000.0)
        clock.advance(61)                                                # host silent
        evtec.refresh(clock.now())
        clock.advance(5)
        assert await _i32(client, 186) == 0 and await _f32(client, 110) == 0.0
        assert evtec.comm_timeouts == 1


async def test_session_setup_after_plug_in(clock) -> None:
    plant = ChargePoint(spec=EVTEC_CHARGER, plugged=False, soc_pct=30.0)
    evtec = EvtecBiDiPro(clock=clock, plant=plant, setup_s=10.0)
    async with serve(evtec) as client:
        assert await _i32(client, 100) == 1                              # ready, no car
        plant.plug()
        assert await _i32(client, 100) == 5                              # plugged in
        assert await _i32(client, 104) == 0                              # no session type yet
        assert await _f32(client, 130) == 0.0                            # window closed
        rr = await _setpoint(client, 100, 3000)
        assert rr.isError() and rr.exception_code == 3
        assert not (await _setpoint(client, 100, 0)).isError()
        clock.advance(6)
        assert await _i32(client, 100) == 6                              # initialising
        clock.advance(5)
        assert await _i32(client, 100) == 10 and await _i32(client, 104) == 5
        assert not (await _setpoint(client, 100, 3000)).isError()
        clock.advance(10)
        assert await _i32(client, 100) == 7 and await _f32(client, 110) == pytest.approx(3000.0)


async def test_error_bitmask_and_state(clock) -> None:
    plant = ChargePoint(spec=EVTEC_CHARGER)
    evtec = EvtecBiDiPro(clock=clock, plant=plant)
    async with serve(evtec) as client:
        assert await read(client, 154, 4) == [0, 0, 0, 0]
        plant.fault = "overtemperature"
        assert await _i32(client, 100) == 12
        assert client.convert_from_registers(await read(client, 154, 4), DT.UINT64) == 1


async def test_connector_nine_charge_point_state_and_counters(clock) -> None:
    plant = ChargePoint(spec=EVTEC_CHARGER, plugged=False, soc_pct=50.0)
    evtec = EvtecBiDiPro(clock=clock, plant=plant, connector=9)
    async with serve(evtec) as client:
        assert await _i32(client, 36) == 1                               # one connector in use
        assert await _i32(client, 40) == 1                               # charge point ready
        assert await _i32(client, 900) == 1 and await _i32(client, 902) == 0
        plant.plug()
        assert await _i32(client, 40) == 5 and await _i32(client, 902) == 2   # in use, plugged in
        assert not (await _setpoint(client, 900, 5000)).isError()
        clock.advance(3600)
        assert await _i32(client, 902) == 16                             # current demand
        assert await _f32(client, 918) == pytest.approx(5000.0, rel=0.01)   # Wh charged
        assert await _f32(client, 946) == pytest.approx(5000.0)           # present consumption
        assert await _f32(client, 908) == pytest.approx(5000.0 / 400.0)   # DC current
        assert await _i32(client, 100) == 0                              # connector 1 unused
    with pytest.raises(ValueError, match="not in 1..9"):
        EvtecBiDiPro(clock=clock, connector=10)
