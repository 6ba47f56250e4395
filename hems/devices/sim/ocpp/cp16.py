"""The simulated station's OCPP 1.6J messages (charge point role, the `ocpp` library)."""
from __future__ import annotations

import asyncio

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

from hems.devices.sim.ocpp.schedule import ProfileError, parse_profile
from hems.devices.sim.ocpp.station import QuietLog


def stamp(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class Station16(ChargePoint):
    def __init__(self, station, connection) -> None:
        super().__init__(station.cp_id, connection, response_timeout=10, logger=QuietLog())
        self.station = station
        self.connector = 1

    # --- sent by the station -----------------------------------------------------------
    async def boot(self) -> None:
        st = self.station
        while True:
            res = await self.call(call.BootNotification(
                charge_point_model=st.model, charge_point_vendor=st.vendor, firmware_version="1.0-sim"))
            if res.status == "Accepted":
                st.heartbeat_s = float(res.interval or st.heartbeat_s)
                return
            await asyncio.sleep(1.0)

    async def heartbeat(self) -> None:
        await self.call(call.Heartbeat())

    async def status(self, plugged: bool) -> None:
        st = self.station
        status = "Charging" if st.transaction_id else "Preparing" if plugged else "Available"
        await self.call(call.StatusNotification(connector_id=self.connector, error_code="NoError",
                                                status=status, timestamp=stamp(st.now())))

    async def car_arrived(self) -> None:
        if self.station.autostart:
            await self.start_transaction("local")

    async def car_left(self) -> None:
        await self.stop_transaction("EVDisconnected")
        await self.status(False)

    async def stop_transaction(self, reason: str) -> None:
        st = self.station
        if st.transaction_id is not None:
            tx, st.transaction_id = st.transaction_id, None
            await self.call(call.StopTransaction(meter_stop=int(st.plant.charged_wh), timestamp=stamp(st.now()),
                                                 transaction_id=int(tx), reason=reason))

    async def start_transaction(self, id_tag: str) -> None:
        st = self.station
        if st.transaction_id is not None or not st.plant.plugged:
            return
        res = await self.call(call.StartTransaction(connector_id=self.connector, id_tag=id_tag,
                                                    meter_start=int(st.plant.charged_wh),
                                                    timestamp=stamp(st.now())))
        if res.id_tag_info["status"] == "Accepted":
            st.transaction_id = str(res.transaction_id)
            await self.status(True)
            await st.changed()

    async def meter_values(self) -> None:
        st, plant = self.station, self.station.plant
        values = [{"value": f"{max(0.0, plant.actual_w):.1f}", "measurand": "Power.Active.Import", "unit": "W"},
                  {"value": f"{plant.charged_wh:.1f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
        for phase in ("L1", "L2", "L3")[:plant.spec.phases]:
            values.append({"value": f"{plant.current_a:.2f}", "measurand": "Current.Import",
                           "phase": phase, "unit": "A"})
        if plant.plugged and st.iso15118:
            values.append({"value": f"{plant.soc_pct:.1f}", "measurand": "SoC", "unit": "Percent",
                           "location": "EV"})
        kw = {"transaction_id": int(st.transaction_id)} if st.transaction_id else {}
        await self.call(call.MeterValues(connector_id=self.connector,
                                         meter_value=[{"timestamp": stamp(st.now()), "sampled_value": values}], **kw))

    # --- received from the central system ---------------------------------------------
    @on("SetChargingProfile")
    def on_set_profile(self, connector_id, cs_charging_profiles, **_):
        st = self.station
        st.received.append(("SetChargingProfile", cs_charging_profiles))
        if st.reject_profiles:
            return call_result.SetChargingProfile(status="Rejected")
        try:
            profile = parse_profile(cs_charging_profiles, st.now(), v2x=False)
        except (ProfileError, KeyError, TypeError, ValueError):
            return call_result.SetChargingProfile(status="Rejected")
        st.schedule.install(profile)
        st.profile_installed()
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_profile(self, **kw):
        self.station.schedule.clear(kw.get("id"))
        self.station.profile_installed()
        return call_result.ClearChargingProfile(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, key, value, **_):
        self.station.received.append(("ChangeConfiguration", {"key": key, "value": value}))
        if key == "MeterValueSampleInterval":
            self.station.meter_interval_s = max(1.0, float(value))
            return call_result.ChangeConfiguration(status="Accepted")
        if key == "MeterValuesSampledData":
            return call_result.ChangeConfiguration(status="Accepted")
        return call_result.ChangeConfiguration(status="NotSupported")

    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag, **_):
        self.station.received.append(("RemoteStartTransaction", {"id_tag": id_tag}))
        if not self.station.plant.plugged or self.station.transaction_id:
            return call_result.RemoteStartTransaction(status="Rejected")
        asyncio.ensure_future(self.start_transaction(id_tag))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id, **_):
        if str(transaction_id) != self.station.transaction_id:
            return call_result.RemoteStopTransaction(status="Rejected")
        asyncio.ensure_future(self.stop_transaction("Remote"))
        return call_result.RemoteStopTransaction(status="Accepted")
