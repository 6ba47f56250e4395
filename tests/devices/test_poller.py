"""DevicePoller with a real driver over real TCP: retries, log once, plausibility, freshness."""
import logging
from datetime import datetime, timezone

import pytest

from hems.devices.drivers import MeterDriver
from hems.devices.modbus import ModbusBus, TcpEndpoint
from hems.devices.modbus.codec import encode
from hems.devices.poller import DevicePoller, Limits, implausible
from hems.devices.profiles import load_profile
from hems.domain import ChargerReading, ChargerState, MeterReading, PvReading
from hems.domain.clock import ManualClock
from tests.devices.rawserver import RawModbusServer, RawUnit

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def set_power(unit: RawUnit, power_w: float) -> None:
    unit.set_block(0x34, encode(power_w, "float32"), "input")


@pytest.fixture
async def sdm():
    unit = RawUnit()
    for addr in range(0, 0x4C, 2):
        unit.set_block(addr, encode(0.0, "float32"), "input")
    unit.set_block(0x46, encode(50.0, "float32"), "input")
    unit.set_block(0x00, encode(230.0, "float32") * 3, "input")
    set_power(unit, 1500.0)
    server = RawModbusServer({1: unit})
    await server.start()
    bus = ModbusBus(TcpEndpoint("127.0.0.1", server.port), timeout_s=0.3)
    clock = ManualClock(T0)
    meter = MeterDriver("grid", load_profile("sdm630"), bus.unit(1))
    poller = DevicePoller(meter, poll_interval_s=5, timeout_s=1.0, clock=clock, retries=2)
    yield server, unit, poller, clock
    await bus.close()
    await server.stop()


async def test_reading_is_stamped_with_the_injected_clock(sdm):
    server, unit, poller, clock = sdm
    assert poller.latest is None and not poller.is_fresh(15)
    r = await poller.poll_once()
    assert r.grid_power_w == 1500.0 and r.at == T0
    assert poller.is_fresh(15)
    clock.advance(16)
    assert not poller.is_fresh(15)
    assert poller.status()["online"] is True and poller.status()["last_ok_at"] == T0


async def test_one_log_line_on_failure_and_one_on_recovery(sdm, caplog):
    server, unit, poller, clock = sdm
    await poller.poll_once()
    server.mode = "silent"
    caplog.set_level(logging.INFO, logger="hems.devices.poller")
    before = server.requests
    for _ in range(4):
        assert await poller.poll_once() is None
        clock.advance(5)
    # 3 tries on the first failed poll (online), then 1 per poll while offline
    assert server.requests - before == 3 + 1 + 1 + 1
    st = poller.status()
    assert st["online"] is False and st["failures"] == 4 and "no answer" in st["last_error"]
    assert poller.latest.grid_power_w == 1500.0          # kept, but it goes stale
    assert not poller.is_fresh(15)
    server.mode = "normal"
    set_power(unit, -800.0)
    assert (await poller.poll_once()).grid_power_w == -800.0
    await poller.poll_once()
    lines = [r for r in caplog.records if r.name == "hems.devices.poller"]
    assert [r.levelname for r in lines] == ["WARNING", "INFO"]
    assert "offline" in lines[0].getMessage() and "back online" in lines[1].getMessage()


@pytest.mark.parametrize("mode", ["garbage", "exception", "short", "close"])
async def test_bad_replies_are_failures_not_crashes(sdm, mode):
    server, unit, poller, clock = sdm
    server.mode = mode
    assert await poller.poll_once() is None
    assert poller.status()["last_error"]
    server.mode = "normal"
    assert (await poller.poll_once()).grid_power_w == 1500.0


async def test_a_4_mw_glitch_is_refused(sdm):
    server, unit, poller, clock = sdm
    await poller.poll_once()
    set_power(unit, 4_000_000.0)
    clock.advance(5)
    assert await poller.poll_once() is None
    assert poller.latest.grid_power_w == 1500.0 and poller.latest.at == T0
    assert "implausible" in poller.status()["last_error"] and poller.refused == 3
    set_power(unit, float("nan"))
    assert await poller.poll_once() is None


def test_plausibility_rules():
    lim = Limits()
    assert implausible(MeterReading(T0, 4e6), lim).startswith("grid power 4000000 W")
    assert implausible(MeterReading(T0, 1e3, phase_voltage_v=(230.0, 9999.0)), lim)
    assert implausible(MeterReading(T0, 1e3, frequency_hz=500.0), lim)
    assert implausible(MeterReading(T0, 1e3, frequency_hz=50.0), lim) is None
    assert implausible(PvReading(T0, -50_000.0), lim)
    assert implausible(PvReading(T0, 5_000.0), lim) is None
    assert implausible(ChargerReading(T0, 1e6, ChargerState.CHARGING), lim)
    assert implausible(ChargerReading(T0, 1e3, ChargerState.CHARGING, soc_pct=140.0), lim)
    assert implausible(ChargerReading(T0, -7e3, ChargerState.DISCHARGING, soc_pct=40.0), lim) is None


async def test_a_hung_device_is_cut_by_the_timeout():
    class Hung:
        name = "hung"

        async def read(self):
            import asyncio
            await asyncio.sleep(10)

        async def close(self):
            pass

    poller = DevicePoller(Hung(), poll_interval_s=1, timeout_s=0.05, clock=ManualClock(T0), retries=1)
    assert await poller.poll_once() is None
    assert "no reading within 0.2 s" in poller.status()["last_error"]
