"""The simulated home: real data, a car on a schedule, energy balance, over real Modbus TCP."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hems.devices.sim import CarSpec
from hems.devices.sim.home import SimHome
from hems.devices.sim.trips import TripSchedule
from hems.domain.clock import ManualClock, ScaledClock
from .helpers import read, s16, walk_chain

DT = AsyncModbusTcpClient.DATATYPE
PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2024, 6, 2, 22, 0, tzinfo=timezone.utc)     # Monday 00:00 in Paris


def _sunspec_setpoint(home: SimHome, ev_w: float) -> None:
    """What a client's write of WSet (DER sign) and WSetEna = 1 does, without the network."""
    c = home.charger.control
    c.set("WSet", -ev_w)
    c.set_raw("WSetEna", 1)
    home.charger.after_write(c.address("WSet"), 3, home.clock.now())


async def _client(port: int) -> AsyncModbusTcpClient:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    assert await client.connect()
    return client


async def _acc32(client, address: int, sf_address: int) -> float:
    raw = client.convert_from_registers(await read(client, address, 2), DT.UINT32)
    return raw * 10 ** s16((await read(client, sf_address))[0])


async def test_weekday_energy_balance_and_schedule() -> None:
    clock = ManualClock(MONDAY)
    home = SimHome(clock, MONDAY, seed=7, initial_soc_pct=50.0)
    async with home:
        meter, pv, charger = [await _client(home.ports[r]) for r in ("meter", "pv", "charger")]
        try:
            m203 = dict((mid, addr) for mid, addr, _ in await walk_chain(meter, 40000))[203]
            ctl = home.charger.control
            plugged_seen: list[tuple[datetime, bool]] = []
            for minute in range(24 * 60):
                clock.advance(60)
                home.step(clock.now())
                local = clock.now().astimezone(PARIS)
                if local.hour == 21 and local.minute == 0:       # an agent starts charging at 7 kW
                    await charger.write_registers(ctl.address("WSet"),
                                                  charger.convert_to_registers(-7000, DT.INT32), device_id=1)
                    await charger.write_register(ctl.address("WSetEna"), 1, device_id=1)
                if minute % 15 == 0:
                    st = (await read(charger, home.charger.measure.address("St")))[0]
                    plugged_seen.append((local, st == 1))
                    # the meter shows grid = load + ev - pv (W_SF = 0, rounded)
                    assert s16((await read(meter, m203 + 18))[0]) == pytest.approx(home.grid_w, abs=1)
            imp = await _acc32(meter, m203 + 46, m203 + 54)
            exp = await _acc32(meter, m203 + 38, m203 + 54)
            pv_wh = await _acc32(pv, home.pv.inverter.address("WH"), home.pv.inverter.address("WH_SF"))
            m701 = home.charger.measure
            ev_sf = s16((await read(charger, m701.address("TotWh_SF")))[0])
            ev_in = charger.convert_from_registers(await read(charger, m701.address("TotWhAbs"), 4),
                                                   DT.UINT64) * 10 ** ev_sf
            ev_out = charger.convert_from_registers(await read(charger, m701.address("TotWhInj"), 4),
                                                    DT.UINT64) * 10 ** ev_sf
        finally:
            for c in (meter, pv, charger):
                c.close()
    load_wh = home.profile.energy_wh("load", MONDAY, clock.now())
    # what the meter counted = load + ev - pv, from independent sources
    assert imp - exp == pytest.approx(load_wh + ev_in - ev_out - pv_wh, rel=0.002, abs=10)
    assert home.energy.grid_import_wh - home.energy.grid_export_wh == pytest.approx(
        home.energy.load_wh + home.energy.ev_charged_wh - home.energy.ev_discharged_wh - home.energy.pv_wh,
        abs=1)
    # the schedule: one commute, leaving around 07:30, back in the evening
    (record,) = home.trips
    assert 6.75 <= record.trip.depart.astimezone(PARIS).hour + record.trip.depart.minute / 60 <= 8.25
    assert 16 <= record.trip.arrive.astimezone(PARIS).hour < 21
    assert 30 <= record.trip.distance_km <= 60
    away = [local for local, plugged in plugged_seen if not plugged]
    assert away and min(away).hour in (6, 7, 8) and max(away).hour in range(15, 21)
    # the car's battery: +charged x efficiency - driven
    car = home.plant.car
    expected_soc = 50.0 + (ev_in * car.charge_efficiency - home.energy.driven_wh) / car.capacity_wh * 100
    assert home.car_soc_pct == pytest.approx(expected_soc, abs=0.05)
    assert ev_in > 15_000                                  # charged from 21:00 to midnight at 7 kW
    assert home.energy.driven_wh == pytest.approx(record.trip.distance_km * car.consumption_wh_per_km)


def test_schedule_weekdays_weekends_and_seeds() -> None:
    schedule = TripSchedule(seed=3)
    start = datetime(2024, 3, 4, tzinfo=timezone.utc)       # a Monday
    trips = schedule.trips_between(start, start + timedelta(days=28))
    weekday = [t for t in trips if t.depart.astimezone(PARIS).weekday() < 5]
    weekend = [t for t in trips if t.depart.astimezone(PARIS).weekday() >= 5]
    assert len(weekday) == 20
    departs = [t.depart.astimezone(PARIS) for t in weekday]
    assert all(6.75 <= d.hour + d.minute / 60 <= 8.25 for d in departs)
    mean_arrival_h = sum(a.hour + a.minute / 60 for a in (t.arrive.astimezone(PARIS) for t in weekday)) / 20
    assert 17.0 <= mean_arrival_h <= 19.5
    assert len(weekend) < 8 and all(t.depart.astimezone(PARIS).hour >= 8 for t in weekend)
    assert len({round(d.minute + 60 * d.hour) for d in departs}) > 10            # it varies
    assert schedule.trips_between(start, start + timedelta(days=7)) == \
        TripSchedule(seed=3).trips_between(start, start + timedelta(days=7))
    assert TripSchedule(seed=4).trips_between(start, start + timedelta(days=7)) != \
        schedule.trips_between(start, start + timedelta(days=7))
    schedule.seed = 4                                       # a new seed takes effect at once
    assert schedule.trips_between(start, start + timedelta(days=7)) == \
        TripSchedule(seed=4).trips_between(start, start + timedelta(days=7))


def test_phases_and_curtailment_without_network() -> None:
    noon = datetime(2024, 6, 5, 11, 0, tzinfo=timezone.utc)
    clock = ManualClock(noon)
    home = SimHome(clock, noon, seed=1, pv_scale=2.0)
    home.step(noon + timedelta(seconds=1))
    assert home.pv_w > 1000
    assert sum(home.phase_power_w) == pytest.approx(home.grid_w)
    load_a = home.load_w * 0.40 - home.pv_w / 3
    assert home.phase_power_w[0] == pytest.approx(load_a)
    assert home.phase_current_a[0] == pytest.approx(abs(load_a) / 230)
    # curtail to 10 % of 5 kW: PV output drops, the grid takes the rest
    home.pv.controls.set("WMaxLimPct", 10)
    home.pv.controls.set_raw("WMaxLim_Ena", 1)
    home.step(noon + timedelta(seconds=2))
    assert home.pv_w == pytest.approx(500)
    assert home.grid_w == pytest.approx(home.load_w - 500)


def test_charger_minimum_and_soc_limit_in_home() -> None:
    t0 = datetime(2024, 6, 5, 20, 0, tzinfo=timezone.utc)
    clock = ManualClock(t0)
    home = SimHome(clock, t0, seed=2, initial_soc_pct=99.5,
                   car=CarSpec(capacity_wh=40_000, soc_max_pct=100.0))
    _sunspec_setpoint(home, 1000)                         # below 6 A on one phase
    clock.advance(30)
    home.step(clock.now())
    assert home.setpoint_w == 1000 and home.ev_w == 0
    _sunspec_setpoint(home, 1400)                         # just above: it flows
    clock.advance(30)
    home.step(clock.now())
    assert home.ev_w == pytest.approx(1400)
    _sunspec_setpoint(home, 7000)
    for _ in range(60):
        clock.advance(60)
        home.step(clock.now())
    assert home.car_soc_pct == pytest.approx(100.0)
    assert home.ev_w == 0                                  # full: the car takes no more


@pytest.mark.parametrize("kind,soc_address", [("quasar", 538), ("evtec", 112)])
async def test_other_chargers_in_the_home(kind: str, soc_address: int) -> None:
    t0 = datetime(2024, 6, 5, 20, 0, tzinfo=timezone.utc)
    clock = ManualClock(t0)
    async with SimHome(clock, t0, seed=2, charger_kind=kind, initial_soc_pct=42.0) as home:
        client = await _client(home.ports["charger"])
        try:
            if kind == "quasar":
                await client.write_registers(81, [1, 0, 1], device_id=1)
                await client.write_registers(257, [1, 0, 0, 5000], device_id=1)
            else:
                await client.write_registers(186, client.convert_to_registers(5000, DT.INT32), device_id=1)
            clock.advance(10)
            regs = await read(client, soc_address, 2 if kind == "evtec" else 1)
            soc = regs[-1] / (10 if kind == "evtec" else 1)
            assert soc == pytest.approx(42.0, abs=0.5)
            assert home.ev_w == pytest.approx(5000)
            assert home.grid_w == pytest.approx(home.load_w + 5000 - home.pv_w)
        finally:
            client.close()


async def test_run_in_background_with_scaled_clock() -> None:
    clock = ScaledClock(MONDAY, speedup=3600.0)            # an hour per second
    home = SimHome(clock, MONDAY, seed=1, meter_kind="sdm630")
    await home.start()
    await home.run(step_s=10.0)
    await asyncio.sleep(0.5)
    await home.stop()
    assert home.now > MONDAY + timedelta(minutes=15)
    assert home.energy.load_wh > 0
    assert home.meter.physics.total_import_wh == pytest.approx(home.energy.grid_import_wh, rel=0.01)


def test_three_phase_charger_and_site_voltage() -> None:
    from hems.devices.sim import ChargerSpec
    t0 = datetime(2024, 6, 5, 20, 0, tzinfo=timezone.utc)
    clock = ManualClock(t0)
    home = SimHome(clock, t0, seed=2, charger=ChargerSpec(phases=3, voltage_v=240.0, max_current_a=16))
    _sunspec_setpoint(home, 6000)
    clock.advance(10)
    home.step(clock.now())
    assert home.ev_w == pytest.approx(6000)
    shares = [home.phase_power_w[i] - (home.load_w * s - home.pv_w / 3)
              for i, s in enumerate(home.load_split)]
    assert shares == pytest.approx([2000, 2000, 2000])
    assert home.meter.physics.voltage_v == 240.0
    assert home.phase_current_a[1] == pytest.approx(abs(home.phase_power_w[1]) / 240)


def test_bad_specs_are_refused_with_a_clear_message() -> None:
    from hems.devices.sim import ChargerSpec
    with pytest.raises(ValueError, match="phases: 2 must be 1 or 3"):
        ChargerSpec(phases=2)
    with pytest.raises(ValueError, match="charge_efficiency"):
        CarSpec(charge_efficiency=1.5)
    with pytest.raises(ValueError, match="charger_kind 'abb'"):
        SimHome(ManualClock(MONDAY), MONDAY, charger_kind="abb")
    with pytest.raises(ValueError, match="ports needs"):
        SimHome(ManualClock(MONDAY), MONDAY, ports={"meter": 1502})


def test_load_peaks_keep_the_energy_and_stay_positive() -> None:
    t0 = datetime(2024, 11, 4, tzinfo=timezone.utc)
    loads = {}
    for peaks in (False, True):
        clock = ManualClock(t0)
        home = SimHome(clock, t0, seed=3, load_peaks=peaks)
        series = []
        for _ in range(24 * 60):
            clock.advance(60)
            home.step(clock.now())
            series.append(home.load_w)
        loads[peaks] = (series, home.energy.load_wh)
    smooth, peaky = loads[False][0], loads[True][0]
    assert loads[True][1] == pytest.approx(loads[False][1], rel=1e-3)
    jumps = [p - s for p, s in zip(peaky, smooth)]
    assert max(jumps) > 1500                     # an appliance at full power
    assert sum(1 for j in jumps if abs(j) > 1) > 60
    assert min(peaky) > 0
