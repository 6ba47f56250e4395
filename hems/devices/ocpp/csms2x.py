"""OCPP 2.0.1 and 2.1, central-system side: one charging station's messages into its charger.

Handled: BootNotification, Heartbeat, StatusNotification, TransactionEvent, MeterValues,
Authorize, NotifyEVChargingNeeds (ISO 15118 departure, energy, SoC, V2X limits) and the
notifications a station sends unasked (answered, otherwise ignored).
Sent: SetVariables (meter sampling), SetChargingProfile (TxDefaultProfile), and
RequestStartTransaction when a car waits without a transaction.
2.1 only: a car and station that offer bidirectional transfer (AC_BPT / DC_BPT) get
CentralSetpoint profiles, so a negative setpoint discharges; a station that rejects one is
not asked to discharge again on that connection.
"""
from __future__ import annotations

import asyncio
import itertools

from ocpp.routing import after, on
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v201 import ChargePoint as ChargePoint201

from hems.devices.ocpp.csms16 import merge
from hems.devices.ocpp.profiles import Limit, profile_2x
from hems.devices.ocpp.readings import STATUS_2X, BadValue, Measured, charging_needs, finite, sampled_values
from hems.devices.ocpp.session import SessionBase
from hems.devices.ports import DeviceError

_remote_ids = itertools.count(1)
_UNASKED = ("NotifyReport", "NotifyEvent", "SecurityEventNotification", "FirmwareStatusNotification",
            "LogStatusNotification", "NotifyChargingLimit", "ClearedChargingLimit",
            "ReportChargingProfiles", "NotifyEVChargingSchedule", "NotifyMonitoringReport")


class _Csms2x(SessionBase):
    """The handlers both 2.x versions share; `v2x` says whether the version can discharge."""
    v2x = False

    def __init__(self, cp_id: str, connection, charger, settings, clock) -> None:
        super().__init__(cp_id, connection)  # type: ignore[call-arg]
        self.setup(clock, settings.response_timeout_s)
        self.charger = charger
        self.settings = settings
        charger.point.status_map = STATUS_2X
        self.v2x_refused = False
        self._tasks: set[asyncio.Task] = set()
        for action in _UNASKED:     # answered with an empty (valid) result
            self.route_map.setdefault(action, {"_on_action": self._unasked(action),
                                               "_skip_schema_validation": False})

    def _unasked(self, action: str):
        def handler(**_):
            return getattr(self._call_result, action)()
        return handler

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the charger's side -----------------------------------------------------------
    def can_discharge(self) -> bool:
        needs = self.charger.point.needs
        return bool(self.v2x and not self.v2x_refused and needs is not None and needs.bidirectional
                    and self.charger.point.max_discharge_w > 0)

    async def send_limit(self, limit: Limit) -> None:
        v2x = self.can_discharge()
        offline_s = self.charger.validity_s if self.v2x else None
        res = await self.request(self._call.SetChargingProfile(
            evse_id=self.charger.connector,
            charging_profile=profile_2x(limit, self.charger.electrical, v2x=v2x, offline_s=offline_s)))
        if res.status != "Accepted":
            reason = (res.status_info or {}).get("reason_code", "") if isinstance(res.status_info, dict) else ""
            if v2x:
                self.v2x_refused = True
                self.once("v2x", "refused a V2X setpoint profile (%s %s): no discharge on this "
                          "connection", res.status, reason)
            self.once("profile", "SetChargingProfile %s %s", res.status, reason)
            raise DeviceError(f"charge point {self.id}: SetChargingProfile {res.status} {reason}".strip())

    # --- handlers ------------------------------------------------------------------------
    @on("BootNotification")
    def on_boot(self, charging_station, reason, **_):
        ident = self.charger.identity
        ident.vendor, ident.model = charging_station.get("vendor_name"), charging_station.get("model")
        ident.firmware, ident.serial = charging_station.get("firmware_version"), charging_station.get("serial_number")
        return self._call_result.BootNotification(current_time=self.now_text(),
                                                  interval=int(self.settings.heartbeat_interval_s),
                                                  status="Accepted")

    @after("BootNotification")
    def after_boot(self, **_):
        self._spawn(self._configure())

    async def _configure(self) -> None:
        data = [{"attribute_value": str(int(self.settings.meter_interval_s)),
                 "component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}},
                {"attribute_value": str(int(self.settings.meter_interval_s)),
                 "component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "Interval"}}]
        try:
            await self.request(self._call.SetVariables(set_variable_data=data))
        except DeviceError as exc:
            self.once("config", "%s", exc)
        await self.charger.on_ready()

    @on("Heartbeat")
    def on_heartbeat(self, **_):
        return self._call_result.Heartbeat(current_time=self.now_text())

    @on("StatusNotification")
    def on_status(self, timestamp, connector_status, evse_id, connector_id, **_):
        self.note_time(timestamp, "StatusNotification timestamp")
        if evse_id == self.charger.connector:
            point = self.charger.point
            if connector_status == "Available":
                point.forget_car()
            point.status = connector_status
            point.fault = "Faulted" if connector_status == "Faulted" else None
            if connector_status == "Occupied" and point.transaction_id is None and self.settings.remote_start:
                self._spawn(self._remote_start())
        return self._call_result.StatusNotification()

    async def _remote_start(self) -> None:
        try:
            res = await self.request(self._call.RequestStartTransaction(
                id_token={"id_token": self.settings.remote_id_token, "type": "Central"},
                remote_start_id=next(_remote_ids), evse_id=self.charger.connector))
            if res.status != "Accepted":
                self.once("remote_start", "RequestStartTransaction %s", res.status)
        except DeviceError as exc:
            self.once("remote_start", "%s", exc)

    def _auth(self, id_token: dict | None) -> dict | None:
        if not isinstance(id_token, dict):
            return None
        token = str(id_token.get("id_token", ""))
        ok = self.settings.accepts(token)
        if not ok:
            self.once("auth:" + token, "id token %s is not on the allow-list", token)
        return {"status": "Accepted" if ok else "Invalid"}

    @on("Authorize")
    def on_authorize(self, id_token, **_):
        return self._call_result.Authorize(id_token_info=self._auth(id_token))

    @on("TransactionEvent")
    def on_transaction(self, event_type, timestamp, transaction_info, **kw):
        if not kw.get("offline"):                  # queued while offline: an old time
            self.note_time(timestamp, "TransactionEvent timestamp")
        evse = kw.get("evse") or {}
        point = self.charger.point
        mine = evse.get("id", None) == self.charger.connector or \
            (not evse and transaction_info.get("transaction_id") == point.transaction_id)
        if mine:
            if event_type == "Ended":
                point.transaction_id = point.charging_state = None
                merge(point, Measured(import_w=0.0, export_w=0.0), self.clock.now())
            else:
                point.transaction_id = transaction_info.get("transaction_id")
                point.charging_state = transaction_info.get("charging_state", point.charging_state)
            if kw.get("meter_value"):
                self._take_meter_values(kw["meter_value"], "TransactionEvent")
        info = self._auth(kw.get("id_token"))
        return self._call_result.TransactionEvent(id_token_info=info)

    @on("MeterValues")
    def on_meter_values(self, evse_id, meter_value, **_):
        if evse_id == self.charger.connector:
            self._take_meter_values(meter_value, "MeterValues")
        return self._call_result.MeterValues()

    def _take_meter_values(self, meter_value: list, action: str) -> None:
        try:
            m = sampled_values(meter_value, self.version)
        except BadValue as exc:
            raise self.bad_value(action, exc) from None
        if meter_value and isinstance(meter_value[-1], dict):
            self.note_time(meter_value[-1].get("timestamp"), f"{action} timestamp")
        merge(self.charger.point, m, self.clock.now())

    @on("NotifyEVChargingNeeds")
    def on_needs(self, charging_needs, evse_id, **kw):
        if evse_id != self.charger.connector:
            return self._call_result.NotifyEVChargingNeeds(status="Rejected")
        try:
            needs = charging_needs_of(charging_needs, self.clock.now())
            dc = charging_needs.get("dc_charging_parameters") or {}
            soc = dc.get("state_of_charge")
            v2x = charging_needs.get("v2x_charging_parameters") or {}
            max_dis = v2x.get("max_discharge_power")
            max_dis_w = finite(max_dis, "maxDischargePower") if max_dis is not None else 0.0
            soc_pct = finite(soc, "stateOfCharge") if soc is not None else None
            max_charge_w = self._max_charge_w(charging_needs, v2x)
        except BadValue as exc:
            raise self.bad_value("NotifyEVChargingNeeds", exc) from None
        point = self.charger.point
        point.needs = needs
        point.max_discharge_w = abs(max_dis_w) if self.v2x and needs.bidirectional else 0.0
        point.max_charge_w = max_charge_w
        if soc_pct is not None and 0 <= soc_pct <= 100:
            point.soc_pct, point.soc_at = soc_pct, self.clock.now()
        return self._call_result.NotifyEVChargingNeeds(status="Accepted")

    def _max_charge_w(self, needs: dict, v2x: dict) -> float | None:
        """What the car says it can take: V2X maxChargePower, else AC evMaxCurrent x phases x V."""
        if v2x.get("max_charge_power") is not None:
            return abs(finite(v2x["max_charge_power"], "maxChargePower"))
        ac = needs.get("ac_charging_parameters") or {}
        if ac.get("ev_max_current") is not None:
            el = self.charger.electrical
            return abs(finite(ac["ev_max_current"], "evMaxCurrent")) * el.phases * el.voltage_v
        return None


def charging_needs_of(raw, at):
    if not isinstance(raw, dict):
        raise BadValue("chargingNeeds is not an object")
    return charging_needs(raw, at)


class Csms201(_Csms2x, ChargePoint201):
    version = "2.0.1"


class Csms21(_Csms2x, ChargePoint21):
    version = "2.1"
    v2x = True
