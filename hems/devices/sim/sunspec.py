"""Build a SunSpec register image: `SunS`, a chain of models, the end marker.

Every point starts as "not implemented" (its type's sentinel); a simulator then sets the points it
implements, in engineering units through the model's scale factors. Values that do not fit the
type are clamped (and logged once), never wrapped into a sentinel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hems.devices.sim.registers import (
    EncodeError, RegisterMap, decode, encode, is_not_implemented, not_implemented_regs,
)
from hems.devices.sim.sunspec_models import ModelLayout, Point, layout

log = logging.getLogger(__name__)

SUNSPEC_BASES = (40000, 0, 50000)
SUNS = [0x5375, 0x6E53]
END_MARKER = [0xFFFF, 0x0000]

_RANGES: dict[str, tuple[int, int]] = {   # usable raw range per type (sentinels excluded)
    "int16": (-0x7FFF, 0x7FFF), "uint16": (0, 0xFFFE), "acc16": (0, 0xFFFF),
    "int32": (-0x7FFFFFFF, 0x7FFFFFFF), "uint32": (0, 0xFFFFFFFE), "acc32": (0, 0xFFFFFFFF),
    "uint64": (0, 0xFFFFFFFFFFFFFFFE), "acc64": (0, 0xFFFFFFFFFFFFFFFF),
    "int64": (-0x7FFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF), "enum16": (0, 0xFFFE),
    "bitfield16": (0, 0xFFFE), "bitfield32": (0, 0xFFFFFFFE), "enum32": (0, 0xFFFFFFFE),
    "sunssf": (-10, 10),
}


@dataclass
class ModelSpec:
    """What a simulator puts in one model: scale factors, fixed values, writable points."""
    model_id: int
    scale_factors: dict[str, int] = field(default_factory=dict)   # e.g. {"W_SF": 0}
    values: dict[str, float | int | str] = field(default_factory=dict)
    writable: frozenset[str] = frozenset()


class ModelView:
    """One model inside an image: read and write its points by name."""

    def __init__(self, regs: RegisterMap, model: ModelLayout, start: int) -> None:
        self.regs = regs
        self.layout = model
        self.start = start                    # address of the ID register
        self._clamped: set[str] = set()

    @property
    def model_id(self) -> int:
        return self.layout.model_id

    def address(self, name: str) -> int:
        return self.start + self.layout.point(name).offset

    def point_at(self, address: int) -> Point | None:
        off = address - self.start
        for p in self.layout.points:
            if p.offset <= off < p.offset + p.size:
                return p
        return None

    def sf(self, name: str) -> int:
        """The scale-factor exponent that applies to point `name` (0 if it has none)."""
        p = self.layout.point(name)
        if p.sf is None:
            return 0
        raw = self.get_raw(p.sf)
        if raw is None:
            raise ValueError(f"model {self.model_id}: {name} needs {p.sf}, which is not implemented")
        return int(raw)

    def set_raw(self, name: str, raw: int | float | str | None) -> None:
        p = self.layout.point(name)
        if raw is None:
            self.regs.set(self.start + p.offset, not_implemented_regs(p.type, p.size))
            return
        if p.type in _RANGES and not isinstance(raw, str):
            lo, hi = _RANGES[p.type]
            clamped = min(hi, max(lo, int(raw)))
            if clamped != int(raw) and name not in self._clamped:
                self._clamped.add(name)
                log.warning("model %d: %s raw %s clamped to %s", self.model_id, name, raw, clamped)
            raw = clamped
        try:
            self.regs.set(self.start + p.offset, encode(p.type, raw, p.size))
        except EncodeError as exc:
            raise ValueError(f"model {self.model_id} point {name}: {exc}") from None

    def set(self, name: str, value: float | int | str | None) -> None:
        """Set a point in engineering units (applies its scale factor); None = not implemented."""
        p = self.layout.point(name)
        if value is None or p.type == "string" or p.sf is None:
            self.set_raw(name, value)
            return
        self.set_raw(name, round(float(value) / 10 ** self.sf(name)))

    def get_raw(self, name: str) -> int | float | str | None:
        p = self.layout.point(name)
        regs = self.regs.get(self.start + p.offset, p.size)
        if is_not_implemented(p.type, regs):
            return None
        return decode(p.type, regs)

    def get(self, name: str) -> float | int | str | None:
        """A point in engineering units, None when not implemented."""
        raw = self.get_raw(name)
        p = self.layout.point(name)
        if raw is None or p.sf is None or isinstance(raw, str):
            return raw
        sf = self.sf(name)
        return raw * 10 ** sf if sf < 0 else int(raw) * 10 ** sf


def build_image(regs: RegisterMap, specs: list[ModelSpec], base: int = 40000) -> dict[int, ModelView]:
    """Lay out `SunS`, the models in order and the end marker from `base`; return views by model id."""
    if base not in SUNSPEC_BASES:
        raise ValueError(f"SunSpec base {base} is not one of {SUNSPEC_BASES}")
    regs.define(base, SUNS)
    addr = base + 2
    views: dict[int, ModelView] = {}
    for spec in specs:
        model = layout(spec.model_id)
        for p in model.points:
            regs.define(addr + p.offset, not_implemented_regs(p.type, p.size),
                        writable=p.name in spec.writable and p.writable)
        unknown = set(spec.writable) - {p.name for p in model.points if p.writable}
        if unknown:
            raise ValueError(f"model {spec.model_id}: not writable points {sorted(unknown)}")
        view = ModelView(regs, model, addr)
        view.set_raw("ID", spec.model_id)
        view.set_raw("L", model.length)
        for name, sf in spec.scale_factors.items():
            view.set_raw(name, sf)
        for name, value in spec.values.items():
            view.set(name, value)
        if spec.model_id in views:
            raise ValueError(f"model {spec.model_id} appears twice")
        views[spec.model_id] = view
        addr += model.length + 2
    regs.define(addr, END_MARKER)
    return views


def common_model(manufacturer: str, model: str, serial: str, version: str = "1.0.0",
                 options: str | None = None) -> ModelSpec:
    values: dict[str, float | int | str] = {"Mn": manufacturer, "Md": model, "SN": serial, "Vr": version}
    if options:
        values["Opt"] = options
    return ModelSpec(1, values=values)
