"""The simulated station's OCPP 2.0.1 and 2.1 messages (charging station role, `ocpp` library).

The transaction starts when it is authorised (TxStartPoint "Authorized"): by itself with
`autostart`, else on RequestStartTransaction. An ISO 15118 car sends NotifyEVChargingNeeds
on arrival (departure time, energy) and its SoC in the meter values; on 2.1 with `v2x` it offers
AC_BPT with its discharge limits, and the station follows CentralSetpoint profiles both ways.
"""
from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from ocpp.routing import on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v201 import ChargePoint as ChargePoint201

from hems.devices.sim.ocpp.cp16 import stamp
from hems.devices.sim.ocpp.schedule import ProfileError, parse_profile
from hems.devices.sim.ocpp.station import QuietLog

_tx = itertools.count(1)


class Station2x:
    evse = 1

    @staticmethod
    def for_version(version: str):
        return Station21 if version == "2.1" else Station201

    def __init__(self, station, connection) -> None:
        super().__init__(station.cp_id, connection, response_timeout=10, logger=QuietLog())  # type: ignore[call-arg]
        self.station = station
        self.seq = itertools.count()

    # --- sent by the station -----------------------------------------------------------
    async def boot(self) -> None:
        st = self.station
        while True:
            res = await self.call(self._call.BootNotification(
                charging_station={"model": st.model, "vendor_name": st.vendor, "firmware_version": "1.0-sim"},
                reason="PowerUp"))
            if res.status == "Accepted":
                st.heartbeat_s = float(res.interval or st.heartbeat_s)
                return
            await asyncio.sleep(1.0)

    async def heartbeat(self) -> None:
        await self.call(self._call.Heartbeat())

    async def status(self, plugged: bool) -> None:
        await self.call(self._call.StatusNotification(
            timestamp=stamp(self.station.now()), connector_status="Occupied" if plugged else "Available",
            evse_id=self.evse, connector_id=1))

    async def car_arrived(self) -> None:
        st = self.station
        if st.iso15118:
            await self.call(self._call.NotifyEVChargingNeeds(charging_needs=self.needs(), evse_id=self.evse))
        if st.autostart:
            await self.start_transaction({"id_token": "local", "type": "Local"}, "Authorized")

    def needs(self) -> dict:
        st, plant = self.station, self.station.plant
        departure = st.departure or st.now() + timedelta(hours=10)
        energy_wh = max(0.0, (80.0 - plant.soc_pct) / 100 * plant.car.capacity_wh)
        phases = plant.spec.phases
        needs = {"requested_energy_transfer": "AC_three_phase" if phases == 3 else "AC_single_phase",
                 "departure_time": stamp(departure),
                 "ac_charging_parameters": {"energy_amount": round(energy_wh), "ev_min_current": 6,
                                            "ev_max_current": int(plant.spec.max_current_a),
                                            "ev_max_voltage": 400}}
        if st.v2x:
            needs["requested_energy_transfer"] = "AC_BPT"
            needs["available_energy_transfer"] = ["AC_BPT", "AC_three_phase" if phases == 3 else "AC_single_phase"]
            needs["control_mode"] = "DynamicControl"
            needs["v2x_charging_parameters"] = {
                "max_charge_power": plant.car.max_charge_w, "max_discharge_power": plant.car.max_discharge_w,
                "ev_target_energy_request": round(energy_wh)}
        return needs

    async def start_transaction(self, id_token: dict, trigger: str, remote_id: int | None = None) -> None:
        st = self.station
        if st.transaction_id is not None or not st.plant.plugged:
            return
        tx = f"sim-{next(_tx)}"
        info = {"transaction_id": tx, "charging_state": "Charging"}
        if remote_id is not None:
            info["remote_start_id"] = remote_id
        res = await self.call(self._call.TransactionEvent(
            event_type="Started", timestamp=stamp(st.now()), trigger_reason=trigger, seq_no=next(self.seq),
            transaction_info=info, evse={"id": self.evse, "connector_id": 1}, id_token=id_token,
            meter_value=[self.sample()]))
        if (res.id_token_info or {}).get("status", "Accepted") == "Accepted":
            st.transaction_id = tx
            await st.changed()

    async def stop_transaction(self, trigger: str, reason: str) -> None:
        st = self.station
        if st.transaction_id is None:
            return
        tx, st.transaction_id = st.transaction_id, None
        await self.call(self._call.TransactionEvent(
            event_type="Ended", timestamp=stamp(st.now()), trigger_reason=trigger, seq_no=next(self.seq),
            transaction_info={"transaction_id": tx, "stopped_reason": reason},
            evse={"id": self.evse, "connector_id": 1}, meter_value=[self.sample()]))

    async def car_left(self) -> None:
        await self.stop_transaction("EVCommunicationLost", "EVDisconnected")
        await self.status(False)

    def sample(self) -> dict:
        st, plant = self.station, self.station.plant
        w = plant.actual_w
        values = [{"value": round(max(0.0, w), 1), "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W"}},
                  {"value": round(max(0.0, -w), 1), "measurand": "Power.Active.Export", "unit_of_measure": {"unit": "W"}},
                  {"value": round(plant.charged_wh, 1), "measurand": "Energy.Active.Import.Register",
                   "unit_of_measure": {"unit": "Wh"}},
                  {"value": round(plant.discharged_wh, 1), "measurand": "Energy.Active.Export.Register",
                   "unit_of_measure": {"unit": "Wh"}}]
        for phase in ("L1-N", "L2-N", "L3-N")[:plant.spec.phases]:
            values.append({"value": round(plant.current_a, 2), "measurand": "Current.Import", "phase": phase[:2],
                           "unit_of_measure": {"unit": "A"}})
        if plant.plugged and st.iso15118:
            values.append({"value": round(plant.soc_pct, 1), "measurand": "SoC", "location": "EV",
                           "unit_of_measure": {"unit": "Percent"}})
        return {"timestamp": stamp(st.now()), "sampled_value": values}

    async def meter_values(self) -> None:
        st = self.station
        if st.transaction_id is not None:
            await self.call(self._call.TransactionEvent(
                event_type="Updated", timestamp=stamp(st.now()), trigger_reason="MeterValuePeriodic",
                seq_no=next(self.seq), transaction_info={"transaction_id": st.transaction_id,
                                                         "charging_state": "Charging"},
                evse={"id": self.evse, "connector_id": 1}, meter_value=[self.sample()]))
        else:
            await self.call(self._call.MeterValues(evse_id=self.evse, meter_value=[self.sample()]))

    # --- received from the central system ---------------------------------------------
    @on("SetChargingProfile")
    def on_set_profile(self, evse_id, charging_profile, **_):
        st = self.station
        st.received.append(("SetChargingProfile", charging_profile))
        if st.reject_profiles:
            return self._call_result.SetChargingProfile(status="Rejected", status_info={"reason_code": "Refused"})
        try:
            profile = parse_profile(charging_profile, st.now(), v2x=st.v2x)
        except (ProfileError, KeyError, TypeError, ValueError) as exc:
            return self._call_result.SetChargingProfile(
                status="Rejected", status_info={"reason_code": "InvalidSchedule", "additional_info": str(exc)[:500]})
        st.schedule.install(profile)
        st.profile_installed()
        return self._call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_profile(self, **kw):
        self.station.schedule.clear(kw.get("charging_profile_id"))
        self.station.profile_installed()
        return self._call_result.ClearChargingProfile(status="Accepted")

    @on("SetVariables")
    def on_set_variables(self, set_variable_data, **_):
        results = []
        for d in set_variable_data:
            self.station.received.append(("SetVariables", d))
            ok = d["component"]["name"] in ("SampledDataCtrlr", "AlignedDataCtrlr")
            if ok and d["component"]["name"] == "SampledDataCtrlr":
                self.station.meter_interval_s = max(1.0, float(d["attribute_value"]))
            results.append({"attribute_status": "Accepted" if ok else "UnknownComponent",
                            "component": d["component"], "variable": d["variable"]})
        return self._call_result.SetVariables(set_variable_result=results)

    @on("RequestStartTransaction")
    def on_request_start(self, id_token, remote_start_id, **_):
        st = self.station
        st.received.append(("RequestStartTransaction", {"id_token": id_token}))
        if not st.plant.plugged or st.transaction_id:
            return self._call_result.RequestStartTransaction(status="Rejected")
        asyncio.ensure_future(self.start_transaction(id_token, "RemoteStart", remote_start_id))
        return self._call_result.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id, **_):
        if transaction_id != self.station.transaction_id:
            return self._call_result.RequestStopTransaction(status="Rejected")
        asyncio.ensure_future(self.stop_transaction("RemoteStop", "Remote"))
        return self._call_result.RequestStopTransaction(status="Accepted")


class Station201(Station2x, ChargePoint201):
    pass


class Station21(Station2x, ChargePoint21):
    pass
