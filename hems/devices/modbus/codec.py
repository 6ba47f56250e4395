"""Register codecs: 16-bit Modbus registers <-> Python values, with word order.

Pure functions, no I/O. Types (register count):
  int16 uint16 enum16 bitfield16 sunssf acc16 (1); int32 uint32 float32 acc32 bitfield32 (2);
  int64 uint64 acc64 (4); string (any count, NUL padded).
Word order "big" puts the most significant register first (the Modbus and SunSpec default);
"little" puts it last (some meters). Bytes inside a register are always big-endian.

SunSpec "not implemented" sentinels decode to None when `sunspec=True`, never to a number.
"""
from __future__ import annotations

import math
import struct
from typing import Literal, Sequence

WordOrder = Literal["big", "little"]

_FORMATS: dict[str, tuple[str, int]] = {
    "int16": ("h", 1), "uint16": ("H", 1), "enum16": ("H", 1), "bitfield16": ("H", 1),
    "sunssf": ("h", 1), "acc16": ("H", 1),
    "int32": ("i", 2), "uint32": ("I", 2), "float32": ("f", 2), "acc32": ("I", 2),
    "bitfield32": ("I", 2),
    "int64": ("q", 4), "uint64": ("Q", 4), "acc64": ("Q", 4), "float64": ("d", 4),
}
TYPES = frozenset(_FORMATS) | {"string"}

# Raw register images SunSpec uses for "not implemented".
_SUNSPEC_ABSENT: dict[str, int | None] = {
    "int16": 0x8000, "sunssf": 0x8000, "uint16": 0xFFFF, "enum16": 0xFFFF, "bitfield16": 0xFFFF,
    "acc16": 0, "acc32": 0, "acc64": 0, "int32": 0x80000000, "uint32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF, "int64": 0x8000000000000000, "uint64": 0xFFFFFFFFFFFFFFFF,
    "float32": 0x7FC00000,
}


class CodecError(ValueError):
    """Registers that cannot be the declared type (wrong count, out of range)."""


def register_count(type_name: str, length: int | None = None) -> int:
    """Registers a value of `type_name` occupies; strings need `length` (registers)."""
    if type_name == "string":
        if not length or length < 1:
            raise CodecError("a string point needs a length in registers")
        return length
    try:
        return _FORMATS[type_name][1]
    except KeyError:
        raise CodecError(f"unknown type {type_name!r}; expected one of {sorted(TYPES)}") from None


def _ordered(regs: Sequence[int], word_order: WordOrder) -> list[int]:
    if word_order not in ("big", "little"):
        raise CodecError(f"word order {word_order!r} is not 'big' or 'little'")
    return list(regs) if word_order == "big" else list(reversed(regs))


def _to_bytes(regs: Sequence[int]) -> bytes:
    for r in regs:
        if not 0 <= r <= 0xFFFF:
            raise CodecError(f"register value {r} is not 16-bit")
    return b"".join(r.to_bytes(2, "big") for r in regs)


def decode(regs: Sequence[int], type_name: str, word_order: WordOrder = "big",
           sunspec: bool = False) -> int | float | str | None:
    """Decode registers to a value; None for SunSpec "not implemented" (when `sunspec`)."""
    if type_name == "string":
        raw = _to_bytes(regs)
        text = raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
        return None if (sunspec and not text) else text
    fmt, count = _FORMATS.get(type_name, (None, 0))
    if fmt is None:
        raise CodecError(f"unknown type {type_name!r}")
    if len(regs) != count:
        raise CodecError(f"{type_name} needs {count} registers, got {len(regs)}")
    raw = _to_bytes(_ordered(regs, word_order))
    if sunspec and _SUNSPEC_ABSENT.get(type_name) == int.from_bytes(raw, "big"):
        return None
    value = struct.unpack(">" + fmt, raw)[0]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode(value: int | float | str, type_name: str, word_order: WordOrder = "big",
           length: int | None = None) -> list[int]:
    """Encode a value to registers. Integers are rounded; out-of-range values raise CodecError."""
    if type_name == "string":
        n = register_count("string", length)
        data = str(value).encode("utf-8")
        if len(data) > 2 * n:
            raise CodecError(f"string {value!r} does not fit {n} registers")
        data = data.ljust(2 * n, b"\x00")
        return [int.from_bytes(data[i:i + 2], "big") for i in range(0, 2 * n, 2)]
    fmt, _count = _FORMATS.get(type_name, (None, 0))
    if fmt is None:
        raise CodecError(f"unknown type {type_name!r}")
    if fmt not in "fd":
        if isinstance(value, float) and not math.isfinite(value):
            raise CodecError(f"{value} is not a number")
        value = int(round(value))
    try:
        raw = struct.pack(">" + fmt, value)
    except struct.error as exc:
        raise CodecError(f"{value} does not fit {type_name}: {exc}") from None
    regs = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return _ordered(regs, word_order)


def scaled(value: int | float | None, sf: int | None) -> float | None:
    """SunSpec scaling: value * 10**sf; absent when either part is absent."""
    if value is None or sf is None:
        return None
    if not -10 <= sf <= 10:
        return None  # a scale factor outside +/-10 is garbage, not a value
    return float(value) * (10.0 ** sf)
