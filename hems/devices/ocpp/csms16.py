"""OCPP 1.6J, central-system side: one charge point's messages into its OcppCharger.

Handled: BootNotification, Heartbeat, StatusNotification, MeterValues, Start/StopTransaction,
Authorize, DataTransfer (refused: no vendor extensions), firmware/diagnostics notifications.
Sent: ChangeConfiguration (meter sampling), SetChargingProfile (TxDefaultProfile),
RemoteStartTransaction when a car waits in Preparing. 1.6 has no discharge.
"""
from __future__ import annotations

import asyncio
import itertools

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result

from hems.devices.ocpp.profiles import Limit, profile_16
from hems.devices.ocpp.readings import STATUS_16, BadValue, Measured, sampled_values
from hems.devices.ocpp.session import SessionBase, log
from hems.devices.ports import DeviceError

MEASURANDS = "Power.Active.Import,Power.Active.Export,Energy.Active.Import.Register,SoC,Current.Import"


class Csms16(SessionBase, ChargePoint):
    version = "1.6"
    format_error = "FormationViolation"
    frame_error = "ProtocolError"
    _tx_ids = itertools.count(1)

    def __init__(self, cp_id: str, connection, charger, settings, clock) -> None:
        super().__init__(cp_id, connection)
        self.setup(clock, settings.response_timeout_s)
        self.charger = charger
        self.settings = settings
        charger.point.status_map = STATUS_16
        self._tasks: set[asyncio.Task] = set()

    # --- the charger's side -----------------------------------------------------------
    def can_discharge(self) -> bool:
        return False

    async def send_limit(self, limit: Limit) -> None:
        res = await self.request(call.SetChargingProfile(
            connector_id=self.charger.connector,
            cs_charging_profiles=profile_16(limit, self.charger.electrical)))
        if res.status != "Accepted":
            self.once("profile", "SetChargingProfile %s", res.status)
            raise DeviceError(f"charge point {self.id}: SetChargingProfile {res.status}")

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- handlers ------------------------------------------------------------------------
    @on("BootNotification")
    def on_boot(self, charge_point_vendor, charge_point_model, **kw):
        ident = self.charger.identity
        ident.vendor, ident.model = charge_point_vendor, charge_point_model
        ident.firmware = kw.get("firmware_version")
        ident.serial = kw.get("charge_point_serial_number") or kw.get("charge_box_serial_number")
        return call_result.BootNotification(current_time=self.now_text(),
                                            interval=int(self.settings.heartbeat_interval_s),
                                            status="Accepted")

    @after("BootNotification")
    def after_boot(self, **_):
        self._spawn(self._configure())

    async def _configure(self) -> None:
        for key, value in (("MeterValueSampleInterval", str(int(self.settings.meter_interval_s))),
                           ("MeterValuesSampledData", MEASURANDS)):
            try:
                res = await self.request(call.ChangeConfiguration(key=key, value=value))
                if res.status not in ("Accepted", "RebootRequired"):
                    self.once("config:" + key, "ChangeConfiguration %s %s", key, res.status)
            except DeviceError as exc:
                self.once("config:" + key, "%s", exc)
        await self.charger.on_ready()

    @on("Heartbeat")
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=self.now_text())

    @on("StatusNotification")
    def on_status(self, connector_id, error_code, status, **kw):
        if kw.get("timestamp"):
            self.note_time(kw["timestamp"], "StatusNotification timestamp")
        if connector_id == 0 and status in ("Faulted", "Unavailable"):
            self.once("cp-status", "the whole charge point reports %s (%s)", status, error_code)
            self.charger.point.status = status          # a fault of the whole charge point
            self.charger.point.fault = error_code
        if connector_id == self.charger.connector:
            point = self.charger.point
            if status == "Available":
                point.forget_car()
            point.status = status
            point.fault = None if error_code == "NoError" else error_code
            if status == "Preparing" and self.settings.remote_start:
                self._spawn(self._remote_start())
        return call_result.StatusNotification()

    async def _remote_start(self) -> None:
        try:
            res = await self.request(call.RemoteStartTransaction(
                id_tag=self.settings.remote_id_token, connector_id=self.charger.connector))
            if res.status != "Accepted":
                self.once("remote_start", "RemoteStartTransaction %s", res.status)
        except DeviceError as exc:
            self.once("remote_start", "%s", exc)

    @on("MeterValues")
    def on_meter_values(self, connector_id, meter_value, **_):
        if connector_id == self.charger.connector:
            self._take_meter_values(meter_value)
        return call_result.MeterValues()

    def _take_meter_values(self, meter_value: list) -> None:
        try:
            m = sampled_values(meter_value, self.version)
        except BadValue as exc:
            raise self.bad_value("MeterValues", exc) from None
        if meter_value and isinstance(meter_value[-1], dict):
            self.note_time(meter_value[-1].get("timestamp"), "MeterValues timestamp")
        merge(self.charger.point, m, self.clock.now())

    def _auth(self, id_tag: str) -> dict:
        ok = self.settings.accepts(id_tag)
        if not ok:
            self.once("auth:" + id_tag, "id tag %s is not on the allow-list", id_tag)
        return {"status": "Accepted" if ok else "Invalid"}

    @on("Authorize")
    def on_authorize(self, id_tag, **_):
        return call_result.Authorize(id_tag_info=self._auth(id_tag))

    @on("StartTransaction")
    def on_start(self, connector_id, id_tag, meter_start, timestamp, **_):
        self.note_time(timestamp, "StartTransaction timestamp")
        tx = next(self._tx_ids)
        info = self._auth(id_tag)
        if connector_id == self.charger.connector and info["status"] == "Accepted":
            self.charger.point.transaction_id = str(tx)
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=info)

    @on("StopTransaction")
    def on_stop(self, meter_stop, timestamp, transaction_id, **kw):
        point = self.charger.point
        if point.transaction_id == str(transaction_id):
            point.transaction_id = None
            merge(point, Measured(import_w=0.0, export_w=0.0), self.clock.now())
        if kw.get("transaction_data"):
            log.debug("%s: StopTransaction with %d meter values", self.id, len(kw["transaction_data"]))
        return call_result.StopTransaction()

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id, **_):
        return call_result.DataTransfer(status="UnknownVendorId")

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, **_):
        return call_result.FirmwareStatusNotification()

    @on("DiagnosticsStatusNotification")
    def on_diagnostics_status(self, **_):
        return call_result.DiagnosticsStatusNotification()


def merge(point, m: Measured, at) -> None:
    """Take a new sample into a connector's state: values it has replace the old ones."""
    old = point.measured
    if m.import_w is not None or m.export_w is not None:
        old.import_w, old.export_w = m.import_w, m.export_w
    for name in ("energy_import_wh", "energy_export_wh", "offered_w"):
        if getattr(m, name) is not None:
            setattr(old, name, getattr(m, name))
    if m.current_a:
        old.current_a = dict(m.current_a)
    if m.soc_pct is not None:
        point.soc_pct, point.soc_at = m.soc_pct, at
    point.measured_at = at
