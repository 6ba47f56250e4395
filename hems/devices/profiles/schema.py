"""Profile schema: TOML tables -> frozen dataclasses, with errors naming file and key.

A profile describes one device model (or a SunSpec family) for one role. See README.md in
hems/devices for the format and a worked example.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hems.devices.modbus.codec import TYPES, CodecError, register_count
from hems.domain import ChargerState

ROLES = ("meter", "pv", "charger")

# Points each role understands, with the unit the value must have after scaling.
ROLE_POINTS: dict[str, dict[str, str]] = {
    "meter": {
        "grid_power_w": "W", "frequency_hz": "Hz", "import_wh": "Wh", "export_wh": "Wh",
        **{f"phase_power_w_l{i}": "W" for i in (1, 2, 3)},
        **{f"phase_voltage_v_l{i}": "V" for i in (1, 2, 3)},
        **{f"phase_current_a_l{i}": "A" for i in (1, 2, 3)},
    },
    "pv": {"pv_power_w": "W", "energy_wh": "Wh", "rated_power_w": "W", "limit_pct": "%",
           "limit_enabled": "", "state": ""},
    "charger": {"ev_power_w": "W", "state": "", "soc_pct": "%", "setpoint_w": "W",
                "max_charge_w": "W", "max_discharge_w": "W", "fault_code": ""},
}
REQUIRED_POINTS = {"meter": ("grid_power_w",), "pv": ("pv_power_w",),
                   "charger": ("ev_power_w", "state")}
CONTROL_POINTS = {"charger": {"setpoint_w": "W"}, "pv": {"limit_pct": "%"}, "meter": {}}
WRITE_LISTS = ("on_connect", "start", "stop", "limit_on", "limit_off")
HOOKS = ("none", "wallbox_quasar")
_POINT_KEYS = {"register", "model", "offset", "function", "type", "word_order", "length",
               "scale", "sf", "sign", "unit", "absent"}


class ProfileError(ValueError):
    """A profile file that does not match the schema. The message names the file and key."""


@dataclass(frozen=True)
class Point:
    name: str
    type: str
    register: int | None = None            # absolute 0-based address, or
    models: tuple[int, ...] = ()           # SunSpec model ids (alternatives) ...
    offset: int | None = None              # ... and the offset inside the model
    function: str = "holding"
    word_order: str = "big"
    length: int | None = None              # registers, strings only
    scale: float = 1.0
    sf: int | None = None                  # scale-factor register/offset (same addressing)
    sign: int = 1                          # multiply to get the hems sign convention
    unit: str = ""
    absent: tuple[int, ...] = ()           # raw values that mean "not available"

    @property
    def count(self) -> int:
        return register_count(self.type, self.length)

    @property
    def sunspec(self) -> bool:
        return bool(self.models)


@dataclass(frozen=True)
class Write:
    point: Point
    value: float


@dataclass(frozen=True)
class Heartbeat:
    point: Point
    timeout_s: float


@dataclass(frozen=True)
class Check:
    point: str
    min: float
    max: float


@dataclass(frozen=True)
class Profile:
    name: str
    role: str
    title: str
    manufacturer: str
    source: str
    points: dict[str, Point]
    controls: dict[str, Point] = field(default_factory=dict)
    writes: dict[str, tuple[Write, ...]] = field(default_factory=dict)
    heartbeat: Heartbeat | None = None
    states: dict[int, ChargerState] = field(default_factory=dict)
    identify: tuple[Check, ...] = ()
    hook: str = "none"
    transport: str = "tcp"
    default_unit: int = 1
    default_port: int = 502
    connector_stride: int = 0              # registers per connector object; 0: one connector
    connector_count: int = 1               # connectors 1..count (the points are for connector 1)
    connector: int = 1                     # the connector these points address

    @property
    def sunspec(self) -> bool:
        return any(p.sunspec for p in self.all_points())

    def all_points(self) -> list[Point]:
        out = list(self.points.values()) + list(self.controls.values())
        out += [w.point for ws in self.writes.values() for w in ws]
        if self.heartbeat:
            out.append(self.heartbeat.point)
        return out


class _Ctx:
    """Collects every error of one file, so the author sees them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def err(self, key: str, msg: str) -> None:
        self.errors.append(f"{self.source}: {key}: {msg}")

    def need(self, table: dict, key: str, kind, path: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                self.err(f"{path}.{key}" if path else key, "is required")
                return None
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.err(f"{path}.{key}" if path else key, f"{value!r} is not a {name}")
            return None if default is ... else default
        return value

    def unknown(self, table: dict, allowed: set[str], path: str) -> None:
        for key in table:
            if key not in allowed:
                self.err(f"{path}.{key}", f"unknown key (expected one of {sorted(allowed)})")


def parse_point(ctx: _Ctx, name: str, t: Any, path: str, expect_unit: str | None) -> Point | None:
    if not isinstance(t, dict):
        ctx.err(path, "must be a table")
        return None
    ctx.unknown(t, _POINT_KEYS, path)
    type_name = ctx.need(t, "type", str, path, "uint16")
    if type_name not in TYPES:
        ctx.err(f"{path}.type", f"{type_name!r} is not one of {sorted(TYPES)}")
        return None
    register = ctx.need(t, "register", int, path, None)
    raw_models = t.get("model")
    models: tuple[int, ...] = ()
    if isinstance(raw_models, int) and not isinstance(raw_models, bool):
        models = (raw_models,)
    elif isinstance(raw_models, list) and raw_models and all(isinstance(m, int) for m in raw_models):
        models = tuple(raw_models)
    elif raw_models is not None:
        ctx.err(f"{path}.model", f"{raw_models!r} is not a SunSpec model id or a list of them")
    offset = ctx.need(t, "offset", int, path, None)
    if (register is None) == (not models):
        ctx.err(path, "needs either `register` or `model` + `offset`")
    if models and offset is None:
        ctx.err(f"{path}.offset", "is required with `model`")
    if register is not None and not 0 <= register <= 0xFFFF:
        ctx.err(f"{path}.register", f"{register} is not a Modbus address (0-65535)")
    function = ctx.need(t, "function", str, path, "holding")
    if function not in ("holding", "input"):
        ctx.err(f"{path}.function", f"{function!r} is not 'holding' or 'input'")
    word_order = ctx.need(t, "word_order", str, path, "big")
    if word_order not in ("big", "little"):
        ctx.err(f"{path}.word_order", f"{word_order!r} is not 'big' or 'little'")
    length = ctx.need(t, "length", int, path, None)
    try:
        register_count(type_name, length)
    except CodecError as exc:
        ctx.err(f"{path}.length", str(exc))
    sign = ctx.need(t, "sign", int, path, 1)
    if sign not in (1, -1):
        ctx.err(f"{path}.sign", f"{sign} is not 1 or -1")
    unit = ctx.need(t, "unit", str, path, "")
    if expect_unit is not None and unit != expect_unit:
        ctx.err(f"{path}.unit", f"{unit!r} but {name} is in {expect_unit!r} (use `scale` to convert)")
    absent = t.get("absent", [])
    if not (isinstance(absent, list) and all(isinstance(a, int) for a in absent)):
        ctx.err(f"{path}.absent", f"{absent!r} is not a list of raw integer values")
        absent = []
    return Point(name=name, type=type_name, register=register, models=models, offset=offset,
                 function=function, word_order=word_order, length=length,
                 scale=ctx.need(t, "scale", float, path, 1.0), sf=ctx.need(t, "sf", int, path, None),
                 sign=sign, unit=unit, absent=tuple(absent))
