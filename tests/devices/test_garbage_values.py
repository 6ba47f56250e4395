"""Whatever 16-bit values a device returns, decoding never crashes and never yields NaN/inf."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from hems.devices.drivers.engine import ProfileEngine, resolve
from hems.devices.modbus import SunSpecMap, SunSpecModel
from hems.devices.profiles import load_profile
from hems.devices.profiles.loader import PROFILE_DIR

PROFILES = sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def fake_map(profile) -> SunSpecMap:
    """Every model the profile names, laid out one after the other from 40002."""
    ids = sorted({m for p in profile.all_points() for m in p.models})
    models, addr = [], 40002
    for mid in ids:
        models.append(SunSpecModel(mid, addr, 200))
        addr += 202
    return SunSpecMap(40000, tuple(models))


@pytest.mark.parametrize("name", PROFILES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_register_values_decode_safely(name, data):
    profile = load_profile(name)
    engine = ProfileEngine(profile, link="test")
    engine.smap = fake_map(profile)
    for point in profile.points.values():
        r = resolve(point, engine.smap)
        addrs = [r.address + i for i in range(point.count)]
        if r.sf_address is not None:
            addrs.append(r.sf_address)
        regs = {(point.function, a): data.draw(st.integers(0, 0xFFFF)) for a in addrs}
        value = engine._value(r, regs)
        assert value is None or isinstance(value, (int, str)) or math.isfinite(value)
