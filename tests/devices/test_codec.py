import math

import pytest
from hypothesis import given, strategies as st

from hems.devices.modbus.codec import CodecError, decode, encode, register_count, scaled

RANGES = {
    "int16": (-2**15, 2**15 - 1), "uint16": (0, 2**16 - 1), "int32": (-2**31, 2**31 - 1),
    "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1),
}


@pytest.mark.parametrize("type_name", sorted(RANGES))
@pytest.mark.parametrize("order", ["big", "little"])
@given(data=st.data())
def test_integers_round_trip(type_name, order, data):
    lo, hi = RANGES[type_name]
    value = data.draw(st.integers(lo, hi))
    regs = encode(value, type_name, order)
    assert len(regs) == register_count(type_name)
    assert decode(regs, type_name, order) == value


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_float32_round_trip(value):
    for order in ("big", "little"):
        assert decode(encode(value, "float32", order), "float32", order) == value


def test_known_images():
    assert encode(230.5, "float32") == [0x4366, 0x8000]                # IEEE 754
    assert encode(230.5, "float32", "little") == [0x8000, 0x4366]
    assert decode([0xFFFF, 0xFFFE], "int32") == -2
    assert decode([0xFFFE, 0xFFFF], "int32", "little") == -2
    assert decode([0x0001, 0x0000], "uint32") == 65536
    assert decode([0x5375, 0x6E53], "string") == "SunS"
    assert encode("ab", "string", length=2) == [0x6162, 0]


@pytest.mark.parametrize("type_name,regs", [
    ("int16", [0x8000]), ("sunssf", [0x8000]), ("uint16", [0xFFFF]), ("enum16", [0xFFFF]),
    ("acc32", [0, 0]), ("int32", [0x8000, 0]), ("uint32", [0xFFFF, 0xFFFF]),
    ("float32", [0x7FC0, 0]), ("uint64", [0xFFFF] * 4), ("string", [0, 0]),
])
def test_sunspec_not_implemented_is_absent(type_name, regs):
    assert decode(regs, type_name, sunspec=True) is None
    if type_name not in ("float32", "string"):
        assert decode(regs, type_name, sunspec=False) is not None   # plain Modbus: a number


def test_scale_factor():
    assert scaled(1234, -1) == pytest.approx(123.4)
    assert scaled(5, 3) == 5000
    assert scaled(None, 0) is None and scaled(1, None) is None
    assert scaled(1, 99) is None   # garbage scale factor


def test_errors_name_the_problem():
    with pytest.raises(CodecError, match="int16 needs 1 registers, got 2"):
        decode([1, 2], "int16")
    with pytest.raises(CodecError, match="does not fit int16"):
        encode(40000, "int16")
    with pytest.raises(CodecError, match="unknown type"):
        decode([1], "int12")
    with pytest.raises(CodecError, match="not 16-bit"):
        decode([70000], "uint16")
    with pytest.raises(CodecError, match="not a number"):
        encode(math.nan, "int32")
