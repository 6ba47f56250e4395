"""A small Modbus TCP server written from the spec (MBAP + FC 3/4/6/16), for fault injection.

It serves plain register maps and can misbehave on purpose: answer garbage, answer an
exception, stay silent, or close the connection. Contract tests use hems.devices.sim; this
server tests how the transport copes with replies no well-behaved simulator sends.
"""
from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field


@dataclass
class RawUnit:
    holding: dict[int, int] = field(default_factory=dict)
    input: dict[int, int] = field(default_factory=dict)

    def set_block(self, address: int, values: list[int], table: str = "holding") -> None:
        regs = self.holding if table == "holding" else self.input
        for i, v in enumerate(values):
            regs[address + i] = v & 0xFFFF


class RawModbusServer:
    def __init__(self, units: dict[int, RawUnit]) -> None:
        self.units = units
        self.mode = "normal"        # normal | garbage | exception | silent | close | short
        self.exception_code = 4
        self.requests = 0
        self.writes: list[tuple[int, int, list[int]]] = []
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readexactly(7)
                tid, _pid, length, unit = struct.unpack(">HHHB", head)
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                reply = self._reply(unit, pdu)
                if reply is None:
                    continue
                if reply == b"CLOSE":
                    break
                writer.write(struct.pack(">HHHB", tid, 0, len(reply) + 1, unit) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _reply(self, unit_id: int, pdu: bytes) -> bytes | None:
        fc = pdu[0]
        if self.mode == "silent":
            return None
        if self.mode == "close":
            return b"CLOSE"
        if self.mode == "garbage":
            return bytes([fc, 0xFF, 0x01])            # byte count says 255, 1 byte follows
        if self.mode == "exception":
            return bytes([fc | 0x80, self.exception_code])
        unit = self.units.get(unit_id)
        if unit is None:
            return bytes([fc | 0x80, 0x0B])
        if fc in (3, 4):
            addr, count = struct.unpack(">HH", pdu[1:5])
            regs = unit.holding if fc == 3 else unit.input
            if any(a not in regs for a in range(addr, addr + count)):
                return bytes([fc | 0x80, 2])
            values = [regs[a] for a in range(addr, addr + count)]
            if self.mode == "short":
                values = values[:-1] or [0]
            return bytes([fc, 2 * len(values)]) + b"".join(struct.pack(">H", v) for v in values)
        if fc == 6:
            addr, value = struct.unpack(">HH", pdu[1:5])
            if addr not in unit.holding:
                return bytes([fc | 0x80, 2])
            unit.holding[addr] = value
            self.writes.append((unit_id, addr, [value]))
            return pdu[:5]
        if fc == 16:
            addr, count, _n = struct.unpack(">HHB", pdu[1:6])
            values = list(struct.unpack(f">{count}H", pdu[6:6 + 2 * count]))
            if any(a not in unit.holding for a in range(addr, addr + count)):
                return bytes([fc | 0x80, 2])
            for i, v in enumerate(values):
                unit.holding[addr + i] = v
            self.writes.append((unit_id, addr, values))
            return pdu[:5]
        return bytes([fc | 0x80, 1])


def sunspec_image(base: int, models: list[tuple[int, list[int]]]) -> dict[int, int]:
    """Registers of a SunSpec device: marker, then each (model id, body), then the end model."""
    regs = [0x5375, 0x6E53]
    for model_id, body in models:
        regs += [model_id, len(body)] + [v & 0xFFFF for v in body]
    regs += [0xFFFF, 0]
    return {base + i: v for i, v in enumerate(regs)}
