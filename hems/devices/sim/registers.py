"""Register encodings and the register map a simulated device serves.

Pure helpers: a value in, 16-bit registers out (big-endian words, Modbus order), and back.
`RegisterMap` holds one register space (holding or input) as address -> uint16, with the
set of addresses a client may write. Addresses are 0-based protocol addresses.
"""
from __future__ import annotations

import math
import struct

# Words per type; "string" sizes are given by the caller.
TYPE_WORDS: dict[str, int] = {
    "int16": 1, "uint16": 1, "sunssf": 1, "enum16": 1, "bitfield16": 1, "acc16": 1, "pad": 1,
    "int32": 2, "uint32": 2, "enum32": 2, "bitfield32": 2, "acc32": 2, "float32": 2,
    "int64": 4, "uint64": 4, "acc64": 4, "bitfield64": 4,
}

# SunSpec "not implemented" value per type (as an unsigned integer of the type's width).
NOT_IMPLEMENTED: dict[str, int] = {
    "int16": 0x8000, "sunssf": 0x8000, "pad": 0x8000,
    "uint16": 0xFFFF, "enum16": 0xFFFF, "bitfield16": 0xFFFF,
    "acc16": 0, "acc32": 0, "acc64": 0,
    "int32": 0x80000000, "uint32": 0xFFFFFFFF, "enum32": 0xFFFFFFFF, "bitfield32": 0xFFFFFFFF,
    "float32": 0x7FC00000,
    "int64": 0x8000000000000000, "uint64": 0xFFFFFFFFFFFFFFFF, "bitfield64": 0xFFFFFFFFFFFFFFFF,
}

_SIGNED = {"int16", "sunssf", "int32", "int64"}


class EncodeError(ValueError):
    """A value does not fit the register type."""


def words(type_name: str, size: int | None = None) -> int:
    if type_name == "string":
        if not size:
            raise EncodeError("a string needs a size in registers")
        return size
    return TYPE_WORDS[type_name]


def int_to_regs(raw: int, n_words: int) -> list[int]:
    """Unsigned integer of n_words*16 bits -> registers, most significant word first."""
    return [(raw >> (16 * (n_words - 1 - i))) & 0xFFFF for i in range(n_words)]


def regs_to_int(regs: list[int]) -> int:
    raw = 0
    for r in regs:
        raw = (raw << 16) | (r & 0xFFFF)
    return raw


def encode(type_name: str, value: int | float | str, size: int | None = None) -> list[int]:
    """A raw (already scaled) value -> registers. Integers out of range raise EncodeError."""
    n = words(type_name, size)
    if type_name == "string":
        data = str(value).encode("utf-8")
        if len(data) > 2 * n:
            raise EncodeError(f"string {value!r} longer than {2 * n} bytes")
        data = data.ljust(2 * n, b"\x00")
        return [int.from_bytes(data[i:i + 2], "big") for i in range(0, 2 * n, 2)]
    if type_name == "float32":
        return int_to_regs(struct.unpack(">I", struct.pack(">f", float(value)))[0], 2)
    raw = int(value)
    bits = 16 * n
    if type_name in _SIGNED:
        if not -(1 << (bits - 1)) <= raw < (1 << (bits - 1)):
            raise EncodeError(f"{raw} does not fit {type_name}")
        raw &= (1 << bits) - 1
    elif type_name.startswith("acc"):
        raw %= 1 << bits                      # accumulators roll over
    elif not 0 <= raw < (1 << bits):
        raise EncodeError(f"{raw} does not fit {type_name}")
    return int_to_regs(raw, n)


def decode(type_name: str, regs: list[int]) -> int | float | str:
    """Registers -> raw value (no scale factor, no sentinel check)."""
    if type_name == "string":
        return b"".join(r.to_bytes(2, "big") for r in regs).rstrip(b"\x00").decode("utf-8", "replace")
    raw = regs_to_int(regs)
    if type_name == "float32":
        return struct.unpack(">f", struct.pack(">I", raw))[0]
    bits = 16 * len(regs)
    if type_name in _SIGNED and raw >= 1 << (bits - 1):
        raw -= 1 << bits
    return raw


def not_implemented_regs(type_name: str, size: int | None = None) -> list[int]:
    if type_name == "string":
        return [0] * words(type_name, size)
    return int_to_regs(NOT_IMPLEMENTED[type_name], words(type_name))


def is_not_implemented(type_name: str, regs: list[int]) -> bool:
    if type_name == "string":
        return all(r == 0 for r in regs)
    if type_name == "float32":
        return math.isnan(struct.unpack(">f", struct.pack(">I", regs_to_int(regs)))[0])
    return regs_to_int(regs) == NOT_IMPLEMENTED[type_name]


def encode_float32(value: float) -> list[int]:
    return encode("float32", value)


class RegisterMap:
    """One register space: address -> uint16, plus the writable addresses."""

    def __init__(self) -> None:
        self._regs: dict[int, int] = {}
        self._writable: set[int] = set()

    def define(self, address: int, regs: list[int], writable: bool = False) -> None:
        for i, r in enumerate(regs):
            if not 0 <= address + i <= 0xFFFF:
                raise ValueError(f"register address {address + i} out of 0..65535")
            self._regs[address + i] = r & 0xFFFF
            if writable:
                self._writable.add(address + i)

    def set(self, address: int, regs: list[int]) -> None:
        """Update defined registers (the device's own view; no write check)."""
        for i, r in enumerate(regs):
            if address + i not in self._regs:
                raise KeyError(f"register {address + i} is not defined")
            self._regs[address + i] = r & 0xFFFF

    def get(self, address: int, count: int = 1) -> list[int]:
        return [self._regs[a] for a in range(address, address + count)]

    def defined(self, address: int, count: int = 1) -> bool:
        return all(a in self._regs for a in range(address, address + count))

    def writable(self, address: int, count: int = 1) -> bool:
        return all(a in self._writable for a in range(address, address + count))

    def __len__(self) -> int:
        return len(self._regs)
