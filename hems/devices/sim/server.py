"""Serve simulated devices with a pymodbus server, over TCP or RTU on a serial port.

Several devices (unit ids) can share one server: a TCP gateway or an RS485 bus. On a serial bus
a request for a unit id nobody has gets no answer (the client times out), as on a real bus; over
TCP it gets exception 0x0B (gateway target failed to respond).
"""
from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable, Sequence

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hems.devices.sim.device import RegisterDevice

log = logging.getLogger(__name__)


class _DeviceContext:
    """The datastore the pymodbus server asks: routes each request to the device by unit id."""

    def __init__(self, devices: Iterable[RegisterDevice], silent_on_unknown: bool) -> None:
        self.silent_on_unknown = silent_on_unknown
        self.devices: dict[int, RegisterDevice] = {}
        for d in devices:
            if d.unit_id in self.devices:
                raise ValueError(f"two devices with unit id {d.unit_id} on one server")
            self.devices[d.unit_id] = d

    def _device(self, device_id: int) -> RegisterDevice | None:
        device = self.devices.get(device_id)
        if (device is None and self.silent_on_unknown) or (device is not None and device.silent):
            raise NoSuchIdException(f"no answer from unit id {device_id}")   # the server stays silent
        return device

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> list[int] | ExcCodes:
        device = self._device(device_id)
        if device is None:
            return ExcCodes.GATEWAY_NO_RESPONSE
        return device.handle_read(func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Sequence[int]) -> ExcCodes | None:
        device = self._device(device_id)
        if device is None:
            return ExcCodes.GATEWAY_NO_RESPONSE
        return device.handle_write(func_code, address, list(values))

    def device_ids(self) -> list[int]:
        return list(self.devices)


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _placeholder() -> SimDevice:
    # The server wants a SimDevice to build its own store; ours replaces it before serving.
    return SimDevice(id=1, simdata=[SimData(address=0, values=[0], datatype=DataType.REGISTERS)])


class SimServer:
    """One listening server (TCP port or serial port) for one or more devices."""

    def __init__(self, devices: RegisterDevice | Sequence[RegisterDevice], *,
                 host: str = "127.0.0.1", port: int = 0,
                 serial_port: str | None = None, baudrate: int = 9600,
                 parity: str = "N", stopbits: int = 1) -> None:
        self.devices = [devices] if isinstance(devices, RegisterDevice) else list(devices)
        if not self.devices:
            raise ValueError("a server needs at least one device")
        self.host = host
        self.port = port or (0 if serial_port else free_tcp_port(host))
        self.serial_port = serial_port
        self.baudrate, self.parity, self.stopbits = baudrate, parity, stopbits
        self._server: ModbusTcpServer | ModbusSerialServer | None = None

    async def start(self) -> None:
        if self._server is not None:
            return
        context = _DeviceContext(self.devices, silent_on_unknown=bool(self.serial_port))
        if self.serial_port:
            server = ModbusSerialServer(
                _placeholder(), framer=FramerType.RTU, port=self.serial_port,
                baudrate=self.baudrate, parity=self.parity, stopbits=self.stopbits, bytesize=8,
                ignore_missing_devices=True)
        else:
            server = ModbusTcpServer(_placeholder(), framer=FramerType.SOCKET,
                                     address=(self.host, self.port), ignore_missing_devices=True)
        server.context = context  # type: ignore[assignment]
        await server.serve_forever(background=True)
        self._server = server
        where = self.serial_port or f"{self.host}:{self.port}"
        log.info("serving units %s on %s", context.device_ids(), where)

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        await server.shutdown()
        await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def __aenter__(self) -> "SimServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
