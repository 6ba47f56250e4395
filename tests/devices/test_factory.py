"""build_devices from hems.config dataclasses: roles, capabilities, shared connections."""
from __future__ import annotations

import pytest

from hems.config import DeviceConfig
from hems.devices.drivers import ChargerDriver, CurtailablePvDriver, MeterDriver
from hems.devices.factory import build_devices
from hems.devices.modbus import BusRegistry
from hems.devices.ports import BidiCharger, Curtailable, Heartbeat, Meter, PvInverter
from hems.devices.profiles import ProfileError
from hems.devices.sim import ChargePoint, SunSpecCharger, SunSpecMeter, SunSpecPvInverter


def tcp(name, role, profile, port, unit=1):
    return DeviceConfig(name=name, role=role, profile=profile, transport="tcp", unit=unit,
                        poll_interval_s=1.0, timeout_s=1.0, host="127.0.0.1", port=port)


def test_classes_follow_roles_and_capabilities():
    devices = build_devices([tcp("m", "meter", "sdm630", 1502), tcp("pv", "pv", "sunspec", 1503),
                             tcp("c", "charger", "sunspec", 1504),
                             tcp("q", "charger", "wallbox_quasar", 1505)])
    assert isinstance(devices["m"], MeterDriver) and isinstance(devices["m"], Meter)
    assert isinstance(devices["pv"], CurtailablePvDriver) and isinstance(devices["pv"], PvInverter)
    assert isinstance(devices["pv"], Curtailable) and not isinstance(devices["m"], Heartbeat)
    for name in ("c", "q"):
        assert isinstance(devices[name], ChargerDriver) and isinstance(devices[name], BidiCharger)
        assert isinstance(devices[name], Heartbeat)


def test_bad_profile_for_role_is_refused():
    with pytest.raises(ProfileError, match="for role 'meter', not 'charger'"):
        build_devices([tcp("c", "charger", "sdm630", 1502)])


async def test_devices_behind_one_gateway_share_one_connection(serve, clock):
    meter = SunSpecMeter(unit_id=1, clock=clock)
    meter.set_power(-2000.0)
    pv = SunSpecPvInverter(unit_id=2, clock=clock)
    pv.available_w = 2500.0
    charger = SunSpecCharger(plant=ChargePoint(soc_pct=80.0), unit_id=3, clock=clock)
    server = await serve([meter, pv, charger])
    buses = BusRegistry()
    devices = build_devices([tcp("grid", "meter", "sunspec", server.port, 1),
                             tcp("roof", "pv", "sunspec", server.port, 2),
                             tcp("car", "charger", "sunspec", server.port, 3)],
                            clock=clock, buses=buses)
    assert len(buses) == 1
    assert (await devices["grid"].read()).grid_power_w == pytest.approx(-2000.0, abs=1)
    assert (await devices["roof"].read()).pv_power_w == pytest.approx(2500.0, abs=1)
    assert (await devices["car"].read()).soc_pct == pytest.approx(80.0)
    await buses.close_all()


async def test_the_bus_closes_when_its_last_device_closes(serve, clock):
    server = await serve([SunSpecMeter(unit_id=1, clock=clock),
                          SunSpecCharger(plant=ChargePoint(), unit_id=3, clock=clock)])
    buses = BusRegistry()
    devices = build_devices([tcp("grid", "meter", "sunspec", server.port, 1),
                             tcp("car", "charger", "sunspec", server.port, 3)],
                            clock=clock, buses=buses)
    bus = buses.get(next(iter(buses._buses)))
    for d in devices.values():
        await d.read()
    assert bus._client is not None and bus._client.connected
    await devices["grid"].close()
    assert bus._client is not None and bus._client.connected      # the charger still uses it
    await devices["car"].close()
    assert bus._client is None
    assert (await devices["car"].read()).state is not None          # reconnects on demand
    await buses.close_all()
