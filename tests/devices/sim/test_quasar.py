"""Wallbox Quasar simulator: the remote-control handshake, signed setpoints, SoC quirk, idle timeout."""
from __future__ import annotations

from hems.devices.sim import ChargePoint
from hems.devices.sim.quasar import WallboxQuasar
from .helpers import read, s16, serve


async def _state(client) -> tuple[int, int, int]:
    """(actual power W, state, SoC %)."""
    power = s16((await read(client, 526))[0])
    state, soc = await read(client, 537, 2)
    return power, state, soc


async def test_setpoints_need_remote_control(clock) -> None:
    quasar = WallboxQuasar(clock=clock, plant=ChargePoint(soc_pct=55.0))
    async with serve(quasar) as client:
        assert await _state(client) == (0, 4, 0)                       # paused, SoC reads 0 when idle
        await client.write_register(83, 1, device_id=1)                # setpoint type: power
        await client.write_register(260, 3000, device_id=1)
        await client.write_register(257, 1, device_id=1)               # start
        clock.advance(10)
        assert (await _state(client))[0] == 0                          # user control: ignored
        await client.write_register(81, 1, device_id=1)                # remote
        clock.advance(10)
        power, state, soc = await _state(client)
        assert (power, state, soc) == (3000, 1, 55)
        # negative = discharge (two's complement int16)
        await client.write_register(260, (-2500) & 0xFFFF, device_id=1)
        clock.advance(10)
        power, state, _ = await _state(client)
        assert (power, state) == (-2500, 11)
        await client.write_register(257, 2, device_id=1)               # stop
        clock.advance(10)
        assert await _state(client) == (0, 4, 0)


async def test_current_setpoint_and_minimum(clock) -> None:
    quasar = WallboxQuasar(clock=clock)
    async with serve(quasar) as client:
        # remote, no autostart, current; then start at 10 A
        assert not (await client.write_registers(81, [1, 0, 0], device_id=1)).isError()
        assert not (await client.write_registers(257, [1, 10], device_id=1)).isError()
        clock.advance(10)
        assert (await _state(client))[:2] == (2300, 1)
        await client.write_register(258, 4, device_id=1)                # below 6 A: nothing flows
        clock.advance(10)
        assert (await _state(client))[:2] == (0, 2)                     # waiting for car demand


async def test_refuses_out_of_range_values(clock) -> None:
    quasar = WallboxQuasar(clock=clock)
    async with serve(quasar) as client:
        for address, value in ((81, 2), (260, 9000), (257, 5), (514, 100), (258, 33)):
            rr = await client.write_register(address, value, device_id=1)
            assert rr.isError() and rr.exception_code == 3, (address, value)
        rr = await client.write_register(526, 5, device_id=1)          # measurement: read-only
        assert rr.isError() and rr.exception_code == 2


async def test_idle_timeout_leaves_remote_and_stops(clock) -> None:
    quasar = WallboxQuasar(clock=clock, idle_timeout_s=30)
    async with serve(quasar) as client:
        assert not (await client.write_registers(81, [1, 0, 1], device_id=1)).isError()
        rr = await client.write_registers(257, [1, 0, 0, (-4000) & 0xFFFF], device_id=1)
        assert not rr.isError()
        for _ in range(4):                                             # polling keeps it alive
            clock.advance(20)
            assert (await _state(client))[0] == -4000
        clock.advance(31)                                              # host silent
        quasar.refresh(clock.now())                                    # the charger notices by itself
        clock.advance(5)
        assert (await read(client, 81))[0] == 0                        # back in user control
        assert (await _state(client))[:2] == (0, 4)
        assert quasar.idle_timeouts == 1 and quasar.plant.actual_w == 0


async def test_user_control_autostart_on_plug(clock) -> None:
    plant = ChargePoint(plugged=False, soc_pct=30.0)
    quasar = WallboxQuasar(clock=clock, plant=plant)
    async with serve(quasar) as client:
        assert await _state(client) == (0, 0, 0)                       # no car
        plant.plug()
        clock.advance(5)
        power, state, soc = await _state(client)
        assert (power, state, soc) == (7360, 1, 30)                    # charges at full power


async def test_user_control_resets_autostart_setpoint_type_and_timeout(clock) -> None:
    quasar = WallboxQuasar(clock=clock, plant=ChargePoint(soc_pct=50.0))
    async with serve(quasar) as client:
        assert not (await client.write_registers(81, [1, 0, 1], device_id=1)).isError()
        await client.write_register(88, 120, device_id=1)
        assert await read(client, 81, 8) == [1, 0, 1, 0, 0, 0, 0, 120]
        await client.write_register(81, 0, device_id=1)                # back to the owner
        assert await read(client, 81, 8) == [0, 1, 0, 0, 0, 0, 0, 0]   # autostart on, current, no timeout


async def test_autostart_in_remote_control_resumes_the_last_setpoint(clock) -> None:
    plant = ChargePoint(plugged=False, soc_pct=40.0)
    quasar = WallboxQuasar(clock=clock, plant=plant)
    async with serve(quasar) as client:
        assert not (await client.write_registers(81, [1, 1, 1], device_id=1)).isError()
        assert not (await client.write_registers(257, [2, 0, 0, (-3000) & 0xFFFF], device_id=1)).isError()
        plant.plug()
        clock.advance(5)
        assert (await _state(client))[:2] == (-3000, 11)              # 82 = 1: started by itself
        assert (await read(client, 257))[0] == 1
        await client.write_register(257, 2, device_id=1)
        await client.write_register(82, 0, device_id=1)                # what a controller does
        plant.unplug()
        clock.advance(5)
        assert (await _state(client))[:2] == (0, 0)
        plant.plug()
        clock.advance(5)
        assert (await _state(client))[:2] == (0, 4)                    # paused until told


async def test_locked_without_a_car_and_error_registers(clock) -> None:
    plant = ChargePoint(plugged=False)
    quasar = WallboxQuasar(clock=clock, plant=plant)
    async with serve(quasar) as client:
        await client.write_register(256, 1, device_id=1)               # lock
        assert (await _state(client))[1] == 6
        assert await read(client, 539, 4) == [0, 0, 0, 0]
        plant.plug()
        plant.fault = "isolation"
        assert (await _state(client))[1] == 7
        assert await read(client, 539, 4) == [0, 0, 0, 1]              # a recoverable error code


async def test_identity_registers(clock) -> None:
    quasar = WallboxQuasar(clock=clock, firmware=5130, serial=0x0005_4CCB)
    async with serve(quasar) as client:
        assert await read(client, 1, 3) == [5130, 0x0005, 0x4CCB]
        rr = await client.write_register(1, 0, device_id=1)            # read-only
        assert rr.isError() and rr.exception_code == 2
