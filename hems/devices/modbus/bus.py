"""One Modbus connection per bus, shared by every unit id on it.

A bus is a TCP endpoint (a device or a Modbus gateway) or a serial port (RS485, RTU framing).
Requests on a bus are serialised by an asyncio lock; on RTU a silent interval of at least
3.5 character times (1.75 ms minimum) separates frames. Errors come out as ModbusError
(a DeviceError) whose message names the bus, the unit, the request and what went wrong.
"""
from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Literal, Union

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from hems.devices.ports import DeviceError

log = logging.getLogger(__name__)
# hems reports each failure itself, once (see hems.devices.poller); pymodbus would log an
# ERROR with a packet dump for every lost request.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

Function = Literal["holding", "input"]
MAX_READ = 125  # registers per read request (Modbus limit)

_EXCEPTIONS = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "device failure", 5: "acknowledge", 6: "device busy", 10: "gateway path unavailable",
    11: "gateway target did not respond",
}


class ModbusError(DeviceError):
    """A request failed: no answer, an exception reply, or a malformed reply."""

    def __init__(self, message: str, exception_code: int | None = None) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class CannotConnect(ModbusError):
    """The endpoint itself is unreachable (no TCP listener, no such serial port)."""


@dataclass(frozen=True)
class TcpEndpoint:
    host: str
    port: int = 502

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class SerialEndpoint:
    port: str
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __str__(self) -> str:
        return f"{self.port}@{self.baudrate}{self.parity}{self.stopbits}"

    @property
    def frame_gap_s(self) -> float:
        """3.5 character times (11 bits each), at least 1.75 ms (the spec's value above 19200 Bd)."""
        return max(3.5 * 11 / self.baudrate, 0.00175)


Endpoint = Union[TcpEndpoint, SerialEndpoint]


class ModbusBus:
    """The single connection to one endpoint. Use `unit(id)` to talk to one device on it."""

    def __init__(self, endpoint: Endpoint, timeout_s: float = 3.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self._last_frame_end = 0.0
        self._users: set[int] = set()
        self.requests = 0

    def attach(self, user: object) -> None:
        """A device starts using this bus."""
        self._users.add(id(user))

    async def detach(self, user: object) -> None:
        """A device stops using this bus; the connection closes when nobody uses it."""
        self._users.discard(id(user))
        if not self._users:
            await self.close()

    def _make_client(self):
        common = dict(timeout=self.timeout_s, retries=0, reconnect_delay=0, name=str(self.endpoint))
        if isinstance(self.endpoint, TcpEndpoint):
            return AsyncModbusTcpClient(self.endpoint.host, port=self.endpoint.port, **common)
        ep = self.endpoint
        return AsyncModbusSerialClient(ep.port, framer=FramerType.RTU, baudrate=ep.baudrate,
                                       parity=ep.parity, stopbits=ep.stopbits,
                                       bytesize=ep.bytesize, **common)

    async def _ensure_connected(self):
        if self._client is not None and self._client.connected:
            return self._client
        quiet_garbled_replies(asyncio.get_running_loop())
        if self._client is not None:
            self._client.close()
        self._client = self._make_client()
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout_s + 1.0)
        except (asyncio.TimeoutError, OSError, ModbusException) as exc:
            ok = False
            log.debug("connect %s failed: %s", self.endpoint, exc)
        if not ok:
            self._client.close()
            self._client = None
            raise CannotConnect(f"{self.endpoint}: cannot connect")
        return self._client

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def _gap(self) -> None:
        if isinstance(self.endpoint, SerialEndpoint):
            wait_s = self._last_frame_end + self.endpoint.frame_gap_s - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)

    async def _call(self, what: str, unit: int, make_request):
        async with self._lock:
            client = await self._ensure_connected()
            await self._gap()
            self.requests += 1
            try:
                reply = await asyncio.wait_for(make_request(client), self.timeout_s + 0.5)
            except asyncio.TimeoutError:
                self._drop(client)
                raise ModbusError(f"{self.endpoint} unit {unit}: {what}: no answer "
                                  f"within {self.timeout_s:g} s") from None
            except ModbusException as exc:
                self._drop(client)
                text = _short(exc)
                if "No response" in text:
                    text = f"no answer within {self.timeout_s:g} s"
                raise ModbusError(f"{self.endpoint} unit {unit}: {what}: {text}") from None
            except (OSError, ValueError, IndexError, KeyError, TypeError) as exc:
                self._drop(client)
                raise ModbusError(f"{self.endpoint} unit {unit}: {what}: malformed reply "
                                  f"({exc.__class__.__name__}: {exc})") from None
            finally:
                self._last_frame_end = time.monotonic()
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            meaning = _EXCEPTIONS.get(code, "unknown exception")
            raise ModbusError(f"{self.endpoint} unit {unit}: {what}: exception {code} ({meaning})",
                              exception_code=code)
        return reply

    def _drop(self, client) -> None:
        """After a timeout or a garbled frame the stream may be out of step: reconnect next time."""
        if isinstance(self.endpoint, TcpEndpoint):
            client.close()
            self._client = None

    async def read(self, unit: int, address: int, count: int,
                   function: Function = "holding") -> list[int]:
        """Read `count` registers (split into requests of at most 125)."""
        out: list[int] = []
        while count > 0:
            n = min(count, MAX_READ)
            out.extend(await self._read_once(unit, address, n, function))
            address, count = address + n, count - n
        return out

    async def _read_once(self, unit: int, address: int, count: int, function: Function):
        what = f"read {function} {address}+{count}"
        if function == "holding":
            req = lambda c: c.read_holding_registers(address, count=count, device_id=unit)  # noqa: E731
        elif function == "input":
            req = lambda c: c.read_input_registers(address, count=count, device_id=unit)  # noqa: E731
        else:
            raise ValueError(f"function {function!r} is not 'holding' or 'input'")
        reply = await self._call(what, unit, req)
        regs = list(getattr(reply, "registers", []) or [])
        if len(regs) != count:
            raise ModbusError(f"{self.endpoint} unit {unit}: {what}: reply has {len(regs)} "
                              f"registers, expected {count}")
        return regs

    async def write(self, unit: int, address: int, values: list[int]) -> None:
        """Write holding registers (FC16; FC6 for a single register)."""
        what = f"write {address}={values}"
        if len(values) == 1:
            req = lambda c: c.write_register(address, values[0], device_id=unit)  # noqa: E731
        else:
            req = lambda c: c.write_registers(address, values, device_id=unit)  # noqa: E731
        await self._call(what, unit, req)

    def unit(self, unit_id: int) -> "UnitLink":
        return UnitLink(self, unit_id)


_QUIETED: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()


def quiet_garbled_replies(loop: asyncio.AbstractEventLoop) -> None:
    """A garbled reply makes pymodbus raise inside the transport's data_received; asyncio then
    logs a full traceback ("Fatal error: protocol.data_received() call failed") for every bad
    frame and drops the connection. The failed request already reaches the poller as a
    ModbusError, logged once per outage there; so on this loop such errors go to DEBUG only.
    Every other loop error keeps its handler."""
    if loop in _QUIETED:
        return
    _QUIETED.add(loop)
    previous = loop.get_exception_handler()

    def handler(lp: asyncio.AbstractEventLoop, context: dict) -> None:
        if isinstance(context.get("exception"), ModbusException):
            log.debug("dropped a connection after a garbled reply: %s", context.get("exception"))
            return
        if previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)


def _short(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.replace("Modbus Error: ", "").replace("[Input/Output] ", "")


@dataclass(frozen=True)
class UnitLink:
    """One device (unit id) on a shared bus."""
    bus: ModbusBus
    unit_id: int

    async def read(self, address: int, count: int, function: Function = "holding") -> list[int]:
        return await self.bus.read(self.unit_id, address, count, function)

    async def write(self, address: int, values: list[int]) -> None:
        await self.bus.write(self.unit_id, address, values)

    def __str__(self) -> str:
        return f"{self.bus.endpoint} unit {self.unit_id}"


class BusRegistry:
    """Hands out one ModbusBus per endpoint, so devices on one bus share its connection."""

    def __init__(self) -> None:
        self._buses: dict[Endpoint, ModbusBus] = {}

    def get(self, endpoint: Endpoint, timeout_s: float = 3.0) -> ModbusBus:
        bus = self._buses.get(endpoint)
        if bus is None:
            bus = self._buses[endpoint] = ModbusBus(endpoint, timeout_s)
        else:
            bus.timeout_s = min(bus.timeout_s, timeout_s)
        return bus

    def __len__(self) -> int:
        return len(self._buses)

    async def close_all(self) -> None:
        for bus in self._buses.values():
            await bus.close()
