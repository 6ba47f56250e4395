"""SunSpec discovery: find the `SunS` marker, walk the model chain, read the common model.

Addresses are 0-based protocol addresses. Discovery tries base 40000, then 0, then 50000.
A SunSpec device works wherever its models sit: points are addressed by (model id, offset)
and resolved against the discovered map.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from hems.devices.modbus.bus import ModbusError, UnitLink
from hems.devices.modbus.codec import decode

log = logging.getLogger(__name__)

BASES = (40000, 0, 50000)
MARKER = [0x5375, 0x6E53]  # "SunS"
END_ID = 0xFFFF
MAX_MODELS = 64
GATEWAY_NO_TARGET = (10, 11)   # exception codes: gateway path unavailable / target did not respond


class SunSpecNotFound(ModbusError):
    """No `SunS` marker at any base address, or a broken model chain."""


@dataclass(frozen=True)
class SunSpecModel:
    model_id: int
    address: int        # address of the model id register (offset 0)
    length: int         # L: registers after the id and length

    def offset_address(self, offset: int) -> int:
        return self.address + offset


@dataclass(frozen=True)
class SunSpecMap:
    base: int
    models: tuple[SunSpecModel, ...]

    @property
    def model_ids(self) -> tuple[int, ...]:
        return tuple(m.model_id for m in self.models)

    def find(self, *model_ids: int) -> SunSpecModel | None:
        """The first model on the device whose id is any of `model_ids`."""
        for m in self.models:
            if m.model_id in model_ids:
                return m
        return None


async def discover(link: UnitLink, bases: tuple[int, ...] = BASES) -> SunSpecMap:
    """Find the marker and walk the chain. Raises SunSpecNotFound or ModbusError (no answer)."""
    reasons: list[str] = []
    for base in bases:
        try:
            regs = await link.read(base, 2)
        except ModbusError as exc:
            if exc.exception_code in (None, *GATEWAY_NO_TARGET):
                raise  # silence, garbage, or a gateway with no such unit: no use trying more bases
            reasons.append(f"{base}: exception {exc.exception_code}")
            continue
        if regs != MARKER:
            reasons.append(f"{base}: no SunS marker")
            continue
        return SunSpecMap(base, await _walk(link, base + 2))
    raise SunSpecNotFound(f"{link}: not a SunSpec device ({'; '.join(reasons)})")


async def _walk(link: UnitLink, addr: int) -> tuple[SunSpecModel, ...]:
    models: list[SunSpecModel] = []
    for _ in range(MAX_MODELS):
        try:
            model_id, length = await link.read(addr, 2)
        except ModbusError as exc:
            if exc.exception_code is None or not models:
                raise
            log.info("%s: SunSpec chain ends without 0xFFFF at %d (exception %s); keeping %d models",
                     link, addr, exc.exception_code, len(models))
            break
        if model_id == END_ID or (model_id == 0 and length == 0):
            break
        models.append(SunSpecModel(model_id, addr, length))
        addr += length + 2
    else:
        raise SunSpecNotFound(f"{link}: SunSpec chain longer than {MAX_MODELS} models")
    if not models:
        raise SunSpecNotFound(f"{link}: SunSpec marker but no models")
    return tuple(models)


@dataclass(frozen=True)
class CommonInfo:
    manufacturer: str | None
    model: str | None
    options: str | None
    version: str | None
    serial: str | None
    device_address: int | None


async def read_common(link: UnitLink, smap: SunSpecMap) -> CommonInfo | None:
    """Model 1 (common): manufacturer, model, options, version, serial number."""
    m = smap.find(1)
    if m is None:
        return None
    regs = await link.read(m.address, min(m.length, 66) + 2)

    def text(offset: int, n: int) -> str | None:
        return decode(regs[offset:offset + n], "string", sunspec=True)  # type: ignore[return-value]

    da = decode(regs[66:67], "uint16", sunspec=True) if len(regs) > 66 else None
    return CommonInfo(text(2, 16), text(18, 16), text(34, 8), text(42, 8), text(50, 16),
                      da)  # type: ignore[arg-type]
