"""hems' OCPP server and a simulated station of each version, over real websockets on loopback."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hems.devices.ocpp.charger import OcppCharger
from hems.devices.ports import BidiCharger, DeviceError, Heartbeat
from hems.domain import ChargerState

from tests.devices.ocpp.conftest import FALLBACK_A, VERSIONS, VOLTAGE_V, make_charger, make_server

pytestmark = pytest.mark.timeout(60)


def amps_w(amps: float) -> float:
    return amps * 3 * VOLTAGE_V


def test_the_charger_is_a_bidi_charger_with_a_heartbeat():
    charger = make_charger(make_server())
    assert isinstance(charger, BidiCharger) and isinstance(charger, Heartbeat)


@pytest.mark.parametrize("version", VERSIONS)
async def test_charging_follows_the_setpoints(rig, version):
    st = await rig.station_for(version)
    assert rig.charger.identity.vendor == "hems-sim" and rig.charger.session.version == version
    for target_w, amps in ((8000.0, 11.5), (5000.0, 7.2), (0.0, 0.0)):
        await rig.charger.write_power(target_w)
        assert st.limit_w == pytest.approx(amps_w(amps))       # A per phase, towards zero
        await rig.until(lambda a=amps: abs(rig.charger.point.ev_power_w() - amps_w(a)) < 1)
        reading = await rig.charger.read()
        assert reading.ev_power_w == pytest.approx(amps_w(amps))
        assert reading.state is (ChargerState.CHARGING if target_w else ChargerState.CONNECTED)
        assert reading.setpoint_w == target_w
        assert reading.soc_pct == pytest.approx(st.plant.soc_pct, abs=0.1)


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_car_that_waits_is_started_remotely(rig, version):
    st = await rig.station_for(version)          # the station does not start by itself
    names = [name for name, _ in st.received]
    assert ("RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction") in names
    assert rig.charger.point.transaction_id is not None


async def test_discharge_on_21_with_a_bidirectional_car(rig):
    st = await rig.station_for("2.1")
    reading = await rig.charger.read()
    assert reading.max_discharge_w == pytest.approx(st.plant.car.max_discharge_w)
    await rig.charger.write_power(-5000.0)
    sent = st.received[-1][1]["charging_schedule"][0]["charging_schedule_period"][0]
    assert sent["operation_mode"] == "CentralSetpoint" and sent["setpoint"] < 0
    await rig.until(lambda: rig.charger.point.ev_power_w() < -4000)
    reading = await rig.charger.read()
    assert reading.state is ChargerState.DISCHARGING
    assert reading.ev_power_w == pytest.approx(-amps_w(7.2))
    soc_before = st.plant.soc_pct
    await rig.until(lambda: st.plant.soc_pct < soc_before)


@pytest.mark.parametrize("version,kw", [("1.6", {}), ("2.0.1", {}), ("2.1", {"v2x": False})])
async def test_no_discharge_where_the_charger_or_car_cannot(rig, version, kw):
    st = await rig.station_for(version, **kw)
    assert (await rig.charger.read()).max_discharge_w == 0.0
    with pytest.raises(DeviceError, match="cannot discharge"):
        await rig.charger.write_power(-5000.0)
    assert st.limit_w >= 0


@pytest.mark.parametrize("version", ("2.0.1", "2.1"))
async def test_iso15118_soc_and_departure_reach_the_reading(rig, version):
    departure = (datetime.now(timezone.utc) + timedelta(hours=9)).replace(microsecond=0)
    st = await rig.station_for(version, soc_pct=35.0, departure=departure)
    await rig.until(lambda: rig.charger.point.needs is not None)
    reading = await rig.charger.read()
    assert reading.soc_pct == pytest.approx(35.0, abs=0.1)
    assert reading.needs.departure == departure
    assert reading.needs.energy_wh == pytest.approx((80 - 35) / 100 * st.plant.car.capacity_wh, abs=1)
    assert reading.needs.bidirectional is (version == "2.1")
    expected_max_w = st.plant.car.max_charge_w if version == "2.1" else 16 * 3 * VOLTAGE_V
    assert reading.max_charge_w == pytest.approx(expected_max_w)   # the car's own limit, for the clamp


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_charger_falls_back_by_itself_when_hems_stops(version):
    server = make_server()
    charger = make_charger(server, validity_s=2.0)
    await charger.connect()
    from tests.devices.ocpp.conftest import Rig

    rig = Rig(server, charger)
    st = await rig.station_for(version)
    try:
        await charger.write_power(8000.0)
        assert st.limit_w == pytest.approx(amps_w(11.5))
        await server.stop()                           # hems dies: nobody refreshes the profile
        await rig.until(lambda: st.limit_w == pytest.approx(amps_w(FALLBACK_A)), 10)
        assert not st.connected.is_set()
    finally:
        await st.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_heartbeat_renews_the_profile_before_it_lapses(version):
    server = make_server()
    charger = make_charger(server, validity_s=3.0)
    await charger.connect()
    from tests.devices.ocpp.conftest import Rig

    rig = Rig(server, charger)
    st = await rig.station_for(version)
    try:
        await charger.write_power(8000.0)
        first = st.received[-1][1]["valid_to"]
        await charger.refresh_heartbeat()             # fresh: nothing to renew
        assert st.received[-1][1]["valid_to"] == first
        await rig.until(lambda: (datetime.now(timezone.utc) - charger._sent_at).total_seconds() > 1.1, 5)
        await charger.refresh_heartbeat()
        assert st.received[-1][1]["valid_to"] > first
        assert st.limit_w == pytest.approx(amps_w(11.5))
    finally:
        await st.stop()
        await charger.close()


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_rejected_profile_is_a_device_error(rig, version):
    st = await rig.station_for(version)
    st.reject_profiles = True
    with pytest.raises(DeviceError, match="Rejected"):
        await rig.charger.write_power(6000.0)
    assert rig.charger.last_setpoint_w != 6000.0


async def test_a_refused_v2x_profile_ends_discharge_on_that_connection(rig):
    st = await rig.station_for("2.1")
    st.reject_profiles = True
    with pytest.raises(DeviceError):
        await rig.charger.write_power(-5000.0)
    st.reject_profiles = False
    assert (await rig.charger.read()).max_discharge_w == 0.0
    with pytest.raises(DeviceError, match="cannot discharge"):
        await rig.charger.write_power(-5000.0)
    await rig.charger.write_power(5000.0)           # charging still works
    assert st.limit_w > 0


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("offset_s", [3600.0, -3600.0])
async def test_a_skewed_station_clock_still_gets_a_valid_profile(rig, version, offset_s):
    st = await rig.station_for(version, start=False)
    st.clock_offset_s = offset_s                      # the station's clock is an hour off
    await rig.start_station()
    await rig.until(lambda: abs(rig.charger.session.clock_offset_s - offset_s) < 5)
    rig.charger.session.note_time("2020-01-01T00:00:00Z", "a meter value kept while offline")
    assert abs(rig.charger.session.clock_offset_s - offset_s) < 5
    await rig.charger.write_power(8000.0)
    assert st.limit_w == pytest.approx(amps_w(11.5))


@pytest.mark.parametrize("version", VERSIONS)
async def test_after_a_reconnect_the_setpoint_is_sent_again(rig, version):
    st = await rig.station_for(version)
    await rig.charger.write_power(8000.0)
    st.schedule.clear()                               # a station that rebooted forgets profiles
    boots = st.boots
    await st.drop()
    await rig.until(lambda: st.boots > boots and st.limit_w == pytest.approx(amps_w(11.5)))


@pytest.mark.parametrize("version", VERSIONS)
async def test_unplugging_forgets_the_car(rig, version):
    st = await rig.station_for(version)
    await rig.charger.write_power(8000.0)
    st.plant.unplug()
    await rig.until(lambda: rig.charger.point.status == "Available")
    reading = await rig.charger.read()
    assert reading.state is ChargerState.NO_CAR
    assert reading.soc_pct is None and reading.needs is None and reading.ev_power_w == 0.0


async def test_not_connected_is_a_device_error():
    charger = make_charger(make_server())
    with pytest.raises(DeviceError, match="not connected"):
        await charger.read()
    with pytest.raises(DeviceError, match="not connected"):
        await charger.write_power(1000.0)
    for bad in (float("nan"), float("inf"), 1e9):
        with pytest.raises(DeviceError, match="refused"):
            await OcppCharger.write_power(charger, bad)
