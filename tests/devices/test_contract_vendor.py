"""Contract tests: the vendor profiles (Eastron, Wallbox Quasar, EVtec) against their simulators."""
from __future__ import annotations

import pytest

from hems.devices.factory import make_driver
from hems.devices.modbus import TcpEndpoint
from hems.devices.ports import DeviceError, Heartbeat
from hems.devices.profiles import load_profile
from hems.devices.sim import ChargePoint
from hems.domain import ChargerState

eastron = pytest.importorskip("hems.devices.sim.eastron")
quasar = pytest.importorskip("hems.devices.sim.quasar")
evtec = pytest.importorskip("hems.devices.sim.evtec")


def driver(profile, server, buses, clock, unit=1, connector=None):
    p = load_profile(profile, connector=connector)
    link = buses.get(TcpEndpoint("127.0.0.1", server.port), timeout_s=1.0).unit(unit)
    return make_driver(profile, p, link, clock)


@pytest.mark.parametrize("cls,profile,phases", [
    ("SDM630", "sdm630", (2000.0, -500.0, 700.0)), ("SDM120", "sdm120", (-1800.0,)),
])
async def test_eastron(cls, profile, phases, serve, buses, clock):
    sim = getattr(eastron, cls)(clock=clock)
    sim.set_power(phases)
    clock.advance(3600)                          # one hour at that power: counters move
    server = await serve(sim)
    r = await driver(profile, server, buses, clock).read()
    assert r.grid_power_w == pytest.approx(sum(phases), abs=0.01)
    assert r.phase_power_w == pytest.approx(phases, abs=0.01)
    assert r.phase_current_a == pytest.approx(tuple(abs(p) / 230.0 for p in phases), rel=1e-4)
    assert r.phase_voltage_v == pytest.approx((230.0,) * len(phases))
    assert r.frequency_hz == pytest.approx(50.0)
    # per-phase or netting counters: either way import - export is the net energy of the hour
    assert r.import_wh - r.export_wh == pytest.approx(sum(phases), rel=1e-4)
    assert r.import_wh >= 0 and r.export_wh >= 0


async def test_wallbox_quasar(serve, buses, clock):
    sim = quasar.WallboxQuasar(plant=ChargePoint(soc_pct=48.0), clock=clock)
    server = await serve(sim)
    ch = driver("wallbox_quasar", server, buses, clock)
    assert isinstance(ch, Heartbeat)
    r = await ch.read()
    assert r.plugged and r.state is ChargerState.CONNECTED
    assert r.soc_pct is None                      # reads 0 while idle: not a SoC
    await ch.write_power(3680.0)
    assert sim.remote and sim.setpoint_w == pytest.approx(3680.0)
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.CHARGING and r.ev_power_w == pytest.approx(3680.0, abs=1.0)
    assert r.soc_pct == pytest.approx(sim.plant.soc_pct, abs=1.0)
    await ch.write_power(-2000.0)
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.DISCHARGING and r.ev_power_w == pytest.approx(-2000.0, abs=1.0)
    await ch.write_power(0.0)
    clock.advance(5)
    r = await ch.read()
    assert r.ev_power_w == 0.0 and r.state is ChargerState.CONNECTED
    sim.plant.unplug()
    assert (await ch.read()).state is ChargerState.NO_CAR


async def test_quasar_idle_timeout_and_retake(serve, buses, clock):
    sim = quasar.WallboxQuasar(plant=ChargePoint(soc_pct=48.0), clock=clock)
    server = await serve(sim)
    ch = driver("wallbox_quasar", server, buses, clock)
    await ch.write_power(3000.0)
    clock.advance(ch.heartbeat_timeout_s + 1)     # hems silent longer than the idle timeout
    sim.refresh(clock.now())
    assert not sim.remote and sim.idle_timeouts == 1 and sim.setpoint_w == 0.0
    assert sim._get(quasar.IDLE_TIMEOUT) == 0     # user control clears the timeout ...
    await ch.refresh_heartbeat()                  # hems back: remote control taken again
    assert sim.remote and sim.setpoint_w == pytest.approx(3000.0)
    assert [sim._get(a) for a in (81, 82, 83, 88)] == [1, 0, 1, int(ch.heartbeat_timeout_s)]


async def test_quasar_handshake_disables_autostart(serve, buses, clock):
    plant = ChargePoint(soc_pct=48.0)
    sim = quasar.WallboxQuasar(plant=plant, clock=clock)
    server = await serve(sim)
    ch = driver("wallbox_quasar", server, buses, clock)
    await ch.write_power(-2000.0)
    assert [sim._get(a) for a in (81, 82, 83)] == [1, 0, 1]
    await ch.write_power(0.0)
    plant.unplug()
    clock.advance(5)
    assert (await ch.read()).state is ChargerState.NO_CAR
    plant.plug()                                  # a car comes back: nothing starts by itself
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.ev_power_w == 0.0 and sim.setpoint_w == 0.0


async def test_quasar_locked_and_fault(serve, buses, clock):
    plant = ChargePoint(plugged=False)
    sim = quasar.WallboxQuasar(plant=plant, clock=clock)
    server = await serve(sim)
    ch = driver("wallbox_quasar", server, buses, clock)
    sim.holding.set(quasar.LOCK, [1])             # locked from the app, no car
    r = await ch.read()
    assert r.state is ChargerState.NO_CAR and r.fault is None
    plant.plug()
    plant.fault = "isolation"
    r = await ch.read()
    assert r.state is ChargerState.FAULT and "code 1" in r.fault


async def test_evtec(serve, buses, clock):
    sim = evtec.EvtecBiDiPro(plant=ChargePoint(spec=evtec.EVTEC_CHARGER, soc_pct=61.5), clock=clock)
    server = await serve(sim)
    ch = driver("evtec_bidipro10", server, buses, clock)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.soc_pct == pytest.approx(61.5, abs=0.1)
    assert r.max_charge_w > 0 and r.max_discharge_w > 0
    await ch.write_power(4000.0)
    assert sim.setpoint_w == 4000.0
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.CHARGING and r.ev_power_w == pytest.approx(4000.0, abs=1.0)
    await ch.write_power(-3000.0)
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.DISCHARGING and r.ev_power_w == pytest.approx(-3000.0, abs=1.0)
    with pytest.raises(DeviceError, match="exception 3"):
        await ch.write_power(-50_000.0 + 1)         # beyond what the charger offers: refused


async def test_evtec_session_setup_is_not_controllable(serve, buses, clock):
    plant = ChargePoint(spec=evtec.EVTEC_CHARGER, plugged=False, soc_pct=55.0)
    sim = evtec.EvtecBiDiPro(plant=plant, clock=clock, setup_s=10.0)
    server = await serve(sim)
    ch = driver("evtec_bidipro10", server, buses, clock)
    plant.plug()
    r = await ch.read()                           # state 5: a car, not controllable yet
    assert r.state is ChargerState.UNKNOWN and not r.plugged
    await ch.write_power(0.0)
    with pytest.raises(DeviceError, match="exception 3"):
        await ch.write_power(3000.0)
    clock.advance(11)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.soc_pct == pytest.approx(55.0, abs=0.1)
    await ch.write_power(3000.0)
    clock.advance(5)
    assert (await ch.read()).state is ChargerState.CHARGING


async def test_evtec_zero_soc_and_fault(serve, buses, clock):
    plant = ChargePoint(spec=evtec.EVTEC_CHARGER, soc_pct=0.0)
    sim = evtec.EvtecBiDiPro(plant=plant, clock=clock)
    server = await serve(sim)
    ch = driver("evtec_bidipro10", server, buses, clock)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.soc_pct is None   # 0 per mille: no value
    plant.fault = "overtemperature"
    r = await ch.read()
    assert r.state is ChargerState.FAULT and "code 1" in r.fault


async def test_evtec_no_car_refuses_setpoints(serve, buses, clock):
    sim = evtec.EvtecBiDiPro(plant=ChargePoint(spec=evtec.EVTEC_CHARGER, plugged=False), clock=clock)
    server = await serve(sim)
    ch = driver("evtec_bidipro10", server, buses, clock)
    r = await ch.read()
    assert r.state is ChargerState.NO_CAR and not r.plugged and r.soc_pct is None
    await ch.write_power(0.0)
    with pytest.raises(DeviceError):
        await ch.write_power(2000.0)


async def test_evtec_on_another_connector(serve, buses, clock):
    sim = evtec.EvtecBiDiPro(plant=ChargePoint(spec=evtec.EVTEC_CHARGER, soc_pct=70.0), clock=clock,
                             connector=9, comm_timeout_s=0)
    server = await serve(sim)
    wrong = await driver("evtec_bidipro10", server, buses, clock).read()
    assert wrong.state is ChargerState.UNKNOWN and wrong.soc_pct is None   # connector 1: all 0
    ch = driver("evtec_bidipro10", server, buses, clock, connector=9)
    r = await ch.read()
    assert r.state is ChargerState.CONNECTED and r.soc_pct == pytest.approx(70.0)
    await ch.write_power(-4000.0)                 # heartbeat at 42 (shared), setpoint at 986
    clock.advance(5)
    r = await ch.read()
    assert r.state is ChargerState.DISCHARGING and r.ev_power_w == pytest.approx(-4000.0, abs=1.0)
    assert sim._get_int32(evtec.COMM_TIMEOUT) == int(ch.heartbeat_timeout_s)
