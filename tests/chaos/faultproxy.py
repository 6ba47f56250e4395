"""A Modbus TCP fault proxy: sits between the agent and a simulated device and misbehaves on demand.

It reads whole MBAP frames both ways, so a fault hits one request/reply exactly as a bad cable,
a busy gateway or a confused device would:
  normal      pass through
  delay       hold each reply `delay_s` seconds
  drop        swallow replies (the request reached the device; the answer is lost)
  garble      flip bytes in each reply's PDU (length kept: the client parses garbage)
  exception   answer every request with Modbus exception `exception_code` (device busy = 6)
  disconnect  close the connection after reading a request, before any reply
  refuse      refuse new connections and close open ones (a dead device)
  implausible replace the register values of read replies with 0x7FFF/0x8000 patterns (huge
              powers, impossible voltages), well-formed on the wire
Switch with `proxy.mode = "garble"`; `proxy.faults` counts replies it spoiled.
"""
from __future__ import annotations

import asyncio
import random
import struct


MODES = ("normal", "delay", "drop", "garble", "exception", "disconnect", "refuse", "implausible")


class ModbusFaultProxy:
    def __init__(self, target_host: str, target_port: int, seed: int = 1) -> None:
        self.target = (target_host, target_port)
        self.mode = "normal"
        self.delay_s = 3.0
        self.exception_code = 6
        self.faults = 0
        self.requests = 0
        self.port = 0
        self._rng = random.Random(seed)
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        self.mode = mode
        if mode in ("refuse", "disconnect"):
            self.drop_connections()

    def drop_connections(self) -> None:
        for w in list(self._conns):
            w.close()
        self._conns.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            writer.close()
        finally:
            self._handlers.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "refuse":
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._conns.update((writer, up_writer))
        try:
            while True:
                request = await _frame(reader)
                self.requests += 1
                if self.mode in ("disconnect", "refuse"):
                    self.faults += 1
                    break
                if self.mode == "exception":
                    self.faults += 1
                    writer.write(_exception(request, self.exception_code))
                    await writer.drain()
                    continue
                up_writer.write(request)
                await up_writer.drain()
                reply = await _frame(up_reader)
                reply = await self._spoil(reply)
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                self._conns.discard(w)
                w.close()

    async def _spoil(self, reply: bytes) -> bytes | None:
        mode = self.mode
        if mode == "normal":
            return reply
        self.faults += 1
        if mode == "delay":
            await asyncio.sleep(self.delay_s)
            return reply
        if mode == "drop":
            return None
        if mode == "garble":
            body = bytearray(reply)
            for i in range(8, len(body)):              # keep the MBAP header and function code
                body[i] = self._rng.randrange(256)
            if len(body) > 8:
                body[8] = 0xFF                          # a byte count that cannot be right
            return bytes(body)
        if mode == "implausible":
            return _implausible(reply)
        return reply


async def _frame(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(7)
    length = struct.unpack(">H", head[4:6])[0]
    return head + await reader.readexactly(length - 1)


def _exception(request: bytes, code: int) -> bytes:
    tid, pid, _length, unit = struct.unpack(">HHHB", request[:7])
    fc = request[7]
    return struct.pack(">HHHBBB", tid, pid, 3, unit, fc | 0x80, code)


def _implausible(reply: bytes) -> bytes:
    fc = reply[7]
    if fc not in (3, 4) or len(reply) < 9:
        return reply
    count = reply[8] // 2
    values = [0x7FFF if i % 2 == 0 else 0x8000 for i in range(count)]
    return reply[:9] + struct.pack(f">{count}H", *values) + reply[9 + 2 * count:]
