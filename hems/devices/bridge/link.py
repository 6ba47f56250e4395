"""The serial link to the bridge: framing, request/ack, the latest status, resets.

One BridgeLink per serial port, shared by the bridge's devices (frequency source, pilot
charger, pulse meter). pyserial opens the port; the asyncio loop watches its file descriptor,
so nothing blocks. Every command waits for the bridge's ACK and raises DeviceError on a
refusal, a timeout or a lost port. Garbage on the line is counted and dropped.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import serial

from firmware_bridge import protocol as P
from hems.devices.bridge.status import BridgeStatus, DroopSettings
from hems.devices.ports import DeviceError
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class BridgeLink:
    def __init__(self, port: str, *, baudrate: int = 115200, timeout_s: float = 1.0,
                 retries: int = 1, clock: Clock | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.retries = retries
        self.clock = clock or SystemClock()
        self.reader = P.FrameReader()
        self.status: BridgeStatus | None = None
        self._status_mono = 0.0         # monotonic time of the latest status (freshness)
        self.hello: dict[str, Any] | None = None
        self.resets = 0                    # bridge (re)boots seen after the first hello
        self.fault_events: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self._serial: serial.Serial | None = None
        self._seq = 0
        self._pending: dict[tuple[int, int], asyncio.Future] = {}
        self._hello_waiter: asyncio.Future | None = None
        self._status_event = asyncio.Event()
        self._users = 0
        self._lock = asyncio.Lock()
        self._droop: DroopSettings | None = None
        self._watchdog: tuple[int, int] | None = None
        self._reapply: asyncio.Task | None = None
        self._bad_logged = 0

    @property
    def connected(self) -> bool:
        return self._serial is not None

    def __repr__(self) -> str:
        return f"BridgeLink({self.port})"

    # ---- open / close ----
    async def connect(self) -> None:
        """Open the port (once for all users) and check the bridge's protocol version."""
        self._users += 1
        await self.ensure_open()

    async def ensure_open(self) -> None:
        async with self._lock:
            if self._serial is not None:
                return
            try:
                ser = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=1.0)
            except (serial.SerialException, OSError) as exc:
                raise DeviceError(f"bridge {self.port}: cannot open: {exc}") from exc
            self._serial = ser
            asyncio.get_running_loop().add_reader(ser.fileno(), self._on_readable)
            try:
                await self._handshake()
            except DeviceError:
                self._drop("no valid hello")
                raise

    async def _handshake(self) -> None:
        for _ in range(self.retries + 1):
            self._hello_waiter = asyncio.get_running_loop().create_future()
            self._write(P.message(P.HELLO, self._next_seq(), (P.PROTOCOL_VERSION,)))
            try:
                hello = await asyncio.wait_for(self._hello_waiter, self.timeout_s)
                break
            except asyncio.TimeoutError:
                continue
        else:
            raise DeviceError(f"bridge {self.port}: no answer to hello within {self.timeout_s:g} s")
        if hello["version"] != P.PROTOCOL_VERSION:
            raise DeviceError(f"bridge {self.port}: protocol version {hello['version']}, "
                              f"hems speaks {P.PROTOCOL_VERSION}: flash matching firmware")
        log.info("bridge %s: firmware %d.%d.%d, max %.1f A", self.port, hello["fw_major"],
                 hello["fw_minor"], hello["fw_patch"], hello["max_current_da"] / 10)

    async def close(self) -> None:
        self._users = max(0, self._users - 1)
        if self._users == 0:
            self._drop(None)

    def _drop(self, reason: str | None) -> None:
        ser, self._serial = self._serial, None
        if ser is None:
            return
        if reason:
            log.warning("bridge %s: link lost: %s", self.port, reason)
        try:
            asyncio.get_running_loop().remove_reader(ser.fileno())
        except (RuntimeError, ValueError, OSError):
            pass
        ser.close()
        err = DeviceError(f"bridge {self.port}: link lost ({reason or 'closed'})")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(err)
        self._pending.clear()
        self.hello = None

    # ---- bytes in ----
    def _on_readable(self) -> None:
        ser = self._serial
        if ser is None:
            return
        try:
            data = ser.read(max(1, ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            self._drop(str(exc))
            return
        bad_before = self.reader.bad_frames
        for version, msg_type, seq, payload in self.reader.feed(data):
            self._dispatch(msg_type, seq, payload)
        if self.reader.bad_frames != bad_before:
            self._log_bad()

    def _log_bad(self) -> None:
        n = self.reader.bad_frames
        if self._bad_logged == 0 or n >= 2 * self._bad_logged:
            log.warning("bridge %s: %d bad frames dropped so far (last: %s)", self.port, n,
                        self.reader.last_error)
            self._bad_logged = n

    def _dispatch(self, msg_type: int, seq: int, payload: bytes) -> None:
        values = P.unpack(msg_type, payload)
        if values is None:
            self.reader.bad_frames += 1
            self.reader.last_error = f"type 0x{msg_type:02x} with a {len(payload)}-byte payload"
            self._log_bad()
            return
        fields = P.as_dict(msg_type, values)
        if msg_type == P.STATUS:
            self.status = BridgeStatus.from_fields(self.clock.now(), fields)
            self._status_mono = self.clock.monotonic()
            self._status_event.set()
            self._status_event = asyncio.Event()
        elif msg_type == P.ACK:
            fut = self._pending.pop((fields["type"], fields["seq"]), None)
            if fut is not None and not fut.done():
                fut.set_result(fields["status"])
        elif msg_type == P.HELLO_REPLY:
            self._on_hello(fields)
        elif msg_type == P.FAULT:
            names = tuple(P.fault_names(fields["faults"]))
            raised = tuple(P.fault_names(fields["raised"]))
            self.fault_events.append((raised, names))
            log.warning("bridge %s: fault raised: %s (active: %s)", self.port,
                        ", ".join(raised), ", ".join(names))
        else:
            log.warning("bridge %s: unexpected message type 0x%02x dropped", self.port, msg_type)

    def _on_hello(self, fields: dict[str, Any]) -> None:
        waiter = self._hello_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(fields)
            self._hello_waiter = None
        elif self.hello is not None:
            self.resets += 1
            log.warning("bridge %s: the bridge restarted; re-sending its settings", self.port)
            self._reapply = asyncio.get_running_loop().create_task(self._reapply_settings())
        self.hello = fields

    async def _reapply_settings(self) -> None:
        try:
            if self._watchdog is not None:
                await self.set_watchdog(*self._watchdog)
            if self._droop is not None:
                await self.set_droop(self._droop)
        except DeviceError as exc:
            log.warning("bridge %s: re-sending settings failed: %s", self.port, exc)

    # ---- commands ----
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _write(self, frame: bytes) -> None:
        ser = self._serial
        if ser is None:
            raise DeviceError(f"bridge {self.port}: not connected")
        try:
            ser.write(frame)
        except (serial.SerialException, OSError) as exc:
            self._drop(str(exc))
            raise DeviceError(f"bridge {self.port}: write failed: {exc}") from exc

    async def request(self, msg_type: int, values: tuple = ()) -> None:
        """Send a command and wait for its ACK; DeviceError unless the bridge says OK."""
        name = P.MESSAGES[msg_type][0]
        try:
            P.pack(msg_type, values)
        except ValueError as exc:
            raise DeviceError(f"bridge {self.port}: {exc}") from exc
        await self.ensure_open()
        for attempt in range(self.retries + 1):
            seq = self._next_seq()
            fut = asyncio.get_running_loop().create_future()
            self._pending[(msg_type, seq)] = fut
            self._write(P.message(msg_type, seq, values))
            try:
                code = await asyncio.wait_for(fut, self.timeout_s)
            except asyncio.TimeoutError:
                self._pending.pop((msg_type, seq), None)
                continue
            if code != P.OK:
                why = P.STATUS_NAMES[code] if code < len(P.STATUS_NAMES) else f"code {code}"
                raise DeviceError(f"bridge {self.port}: {name}{values} refused: {why}")
            return
        raise DeviceError(f"bridge {self.port}: no ack for {name} within {self.timeout_s:g} s")

    async def heartbeat(self) -> None:
        await self.request(P.HEARTBEAT)

    async def set_pilot_current_da(self, current_da: int) -> None:
        await self.request(P.SET_PILOT, (current_da,))

    async def set_charge_enabled(self, enabled: bool) -> None:
        await self.request(P.SET_RELAY, (1 if enabled else 0,))

    async def set_droop(self, droop: DroopSettings) -> None:
        await self.request(P.SET_DROOP, droop.values())
        self._droop = droop

    async def set_watchdog(self, timeout_ms: int, fallback_da: int = 0) -> None:
        await self.request(P.SET_WATCHDOG, (timeout_ms, fallback_da))
        self._watchdog = (timeout_ms, fallback_da)

    async def clear_faults(self) -> None:
        await self.request(P.CLEAR_FAULTS)

    async def fresh_status(self, max_age_s: float = 1.0) -> BridgeStatus:
        """The latest status if younger than max_age_s, else ask for one and wait."""
        status = self.status
        if status is not None and self.clock.monotonic() - self._status_mono <= max_age_s:
            return status
        await self.ensure_open()
        event = self._status_event
        self._write(P.message(P.GET_STATUS, self._next_seq()))
        try:
            await asyncio.wait_for(event.wait(), self.timeout_s)
        except asyncio.TimeoutError:
            raise DeviceError(f"bridge {self.port}: no status within {self.timeout_s:g} s") from None
        assert self.status is not None
        return self.status
