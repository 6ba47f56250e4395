"""Contract tests: the SunSpec profiles against the SunSpec simulators over real Modbus TCP."""
from __future__ import annotations

import pytest

from hems.devices.factory import make_driver
from hems.devices.modbus import TcpEndpoint
from hems.devices.ports import BidiCharger, Curtailable, Heartbeat, Meter, PvInverter
from hems.devices.profiles import load_profile
from hems.devices.sim import ChargePoint, SunSpecCharger, SunSpecMeter, SunSpecPvInverter
from hems.domain import ChargerState


def driver(role, server, buses, clock, unit=1, profile="sunspec"):
    link = buses.get(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0).unit(unit)
    return make_driver(f"{role}1", load_profile(profile, role=role), link, clock)


@pytest.mark.parametrize("model,base", [(201, 40000), (202, 0), (203, 50000), (204, 40000)])
async def test_sunspec_meter(model, base, serve, buses, clock):
    sim = SunSpecMeter(meter_model=model, base=base, clock=clock)
    phases = {201: (1234.0,), 202: (1000.0, -250.0)}.get(model, (1500.0, -400.0, 320.0))
    sim.set_power(phases)
    server = await serve(sim)
    meter = driver("meter", server, buses, clock)
    assert isinstance(meter, Meter)
    r = await meter.read()
    assert r.grid_power_w == pytest.approx(sum(phases), abs=1.0)
    assert r.phase_power_w == pytest.approx(phases, abs=1.0)
    assert r.frequency_hz == pytest.approx(50.0)
    assert all(200 < v < 260 for v in r.phase_voltage_v)
    sim.set_power(tuple(-p for p in phases))
    assert (await meter.read()).grid_power_w == pytest.approx(-sum(phases), abs=1.0)


@pytest.mark.parametrize("model", [101, 102, 103])
async def test_sunspec_pv_and_curtailment(model, serve, buses, clock):
    sim = SunSpecPvInverter(inverter_model=model, rating_w=6000, clock=clock)
    sim.available_w = 4200.0
    server = await serve(sim)
    pv = driver("pv", server, buses, clock)
    assert isinstance(pv, PvInverter) and isinstance(pv, Curtailable)
    r = await pv.read()
    assert r.pv_power_w == pytest.approx(4200.0, abs=1.0)
    assert r.rated_power_w == pytest.approx(6000.0)
    assert r.limit_pct is None
    await pv.write_limit_pct(50.0)
    assert sim.limit_pct == pytest.approx(50.0)
    r = await pv.read()
    assert r.limit_pct == pytest.approx(50.0)
    assert r.pv_power_w == pytest.approx(3000.0, abs=1.0)
    await pv.write_limit_pct(None)
    assert sim.limit_pct is None
    assert (await pv.read()).pv_power_w == pytest.approx(4200.0, abs=1.0)


async def test_sunspec_charger(serve, buses, clock):
    sim = SunSpecCharger(plant=ChargePoint(soc_pct=55.0), clock=clock)
    server = await serve(sim)
    ch = driver("charger", server, buses, clock)
    assert isinstance(ch, BidiCharger) and isinstance(ch, Heartbeat)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.plugged
    assert r.soc_pct == pytest.approx(55.0)
    assert r.ev_power_w == 0.0
    assert r.max_charge_w > 0 and r.max_discharge_w > 0

    await ch.write_power(3000.0)                  # + = charging the car
    assert sim.setpoint_w == pytest.approx(3000.0)
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.CHARGING
    assert r.ev_power_w == pytest.approx(sim.plant.actual_w, abs=1.0)
    assert r.ev_power_w == pytest.approx(3000.0, abs=1.0)
    assert r.setpoint_w == pytest.approx(3000.0)

    await ch.write_power(-2500.0)                 # - = discharging
    clock.advance(5)
    r = await ch.read()
    assert sim.setpoint_w == pytest.approx(-2500.0)
    assert r.state is ChargerState.DISCHARGING and r.ev_power_w == pytest.approx(-2500.0, abs=1.0)

    sim.plant.unplug()
    r = await ch.read()
    assert r.state is ChargerState.NO_CAR and r.soc_pct is None and not r.plugged


async def test_sunspec_charger_fault(serve, buses, clock):
    sim = SunSpecCharger(plant=ChargePoint(soc_pct=40.0), clock=clock)
    sim.plant.fault = "isolation fault"
    server = await serve(sim)
    r = await driver("charger", server, buses, clock).read()
    assert r.state is ChargerState.FAULT and r.fault


async def test_heartbeat_sets_the_revert_timer(serve, buses, clock):
    sim = SunSpecCharger(plant=ChargePoint(soc_pct=55.0), clock=clock)
    server = await serve(sim)
    ch = driver("charger", server, buses, clock)
    await ch.write_power(2000.0)
    assert sim.control.get("WSetRvrtTms") == ch.heartbeat_timeout_s
    clock.advance(ch.heartbeat_timeout_s - 5)
    await ch.refresh_heartbeat()
    clock.advance(ch.heartbeat_timeout_s - 5)
    await ch.read()
    assert sim.setpoint_w == pytest.approx(2000.0) and sim.reverts == 0
    clock.advance(ch.heartbeat_timeout_s + 1)        # hems silent: the charger reverts by itself
    await ch.read()
    assert sim.reverts == 1 and sim.setpoint_w == 0.0
    await ch.refresh_heartbeat()                     # hems back: control is taken again
    assert sim.setpoint_w == pytest.approx(2000.0)
