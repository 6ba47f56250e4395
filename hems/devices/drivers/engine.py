"""Profile engine: resolve a profile's points to addresses, read them in few requests, decode.

Shared by every role driver. SunSpec points are resolved through discovery (model + offset);
fixed points use their register. Reads are merged into blocks of nearby registers; when a
block is refused (exception reply) its points are read one by one and the optional ones the
device does not have are dropped, with one log line.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from hems.devices.modbus import (
    CodecError, ModbusError, SunSpecMap, UnitLink, decode, discover, encode, scaled,
)
from hems.devices.ports import DeviceError
from hems.devices.profiles import Point, Profile
from hems.devices.profiles.schema import REQUIRED_POINTS

log = logging.getLogger(__name__)

MERGE_GAP = 4      # registers: read across gaps up to this size
MAX_BLOCK = 125


@dataclass(frozen=True)
class Resolved:
    point: Point
    address: int
    sf_address: int | None


def resolve(point: Point, smap: SunSpecMap | None) -> Resolved | None:
    """Address of a point (and its scale factor), or None when its SunSpec model is missing."""
    if not point.sunspec:
        return Resolved(point, point.register, point.sf)  # type: ignore[arg-type]
    model = smap.find(*point.models) if smap else None
    if model is None:
        return None
    sf = model.address + point.sf if point.sf is not None else None
    return Resolved(point, model.address + point.offset, sf)  # type: ignore[operator]


def plan_blocks(spans: list[tuple[str, int, int]], gap: int = MERGE_GAP) -> list[tuple[str, int, int]]:
    """Merge (function, address, count) spans into few read requests of at most 125. Pure.

    Spans closer than `gap` registers are read together (the registers between are read too).
    """
    blocks: list[tuple[str, int, int]] = []
    for function, addr, count in sorted(set(spans)):
        if blocks:
            f, a, c = blocks[-1]
            end = max(a + c, addr + count)
            if f == function and addr <= a + c + gap and end - a <= MAX_BLOCK:
                blocks[-1] = (f, a, end - a)
                continue
        blocks.append((function, addr, count))
    return blocks


class ProfileEngine:
    """Reads and writes the points of one profile on one unit."""

    def __init__(self, profile: Profile, link: UnitLink) -> None:
        self.profile = profile
        self.link = link
        self.smap: SunSpecMap | None = None
        self.points: dict[str, Resolved] = {}
        self.controls: dict[str, Resolved] = {}
        self._dropped: set[str] = set()

    async def connect(self) -> None:
        if self.profile.sunspec:
            self.smap = await discover(self.link)
        self.points = {n: r for n, p in self.profile.points.items()
                       if (r := resolve(p, self.smap)) is not None}
        self.controls = {n: r for n, p in self.profile.controls.items()
                         if (r := resolve(p, self.smap)) is not None}
        missing = [n for n in REQUIRED_POINTS[self.profile.role] if n not in self.points]
        if missing:
            models = self.smap.model_ids if self.smap else ()
            raise DeviceError(f"{self.link}: profile {self.profile.name} needs {missing}, "
                              f"not on this device (SunSpec models {list(models)})")

    def resolve_point(self, point: Point) -> Resolved | None:
        return resolve(point, self.smap)

    async def read_all(self) -> dict[str, float | int | str | None]:
        """Every readable point, scaled and signed; None where the device reports none."""
        wanted = {n: r for n, r in self.points.items() if n not in self._dropped}
        regs = await self._fetch(wanted)
        return {name: self._value(r, regs) for name, r in wanted.items()}

    async def _fetch(self, wanted: dict[str, Resolved]) -> dict[tuple[str, int], int]:
        spans: dict[bool, list[tuple[str, int, int]]] = {True: [], False: []}
        for r in wanted.values():
            group = spans[r.point.sunspec]
            group.append((r.point.function, r.address, r.point.count))
            if r.sf_address is not None:
                group.append((r.point.function, r.sf_address, 1))
        # A SunSpec map is contiguous from its base to the end model: any gap may be read.
        blocks = plan_blocks(spans[True], gap=MAX_BLOCK) + plan_blocks(spans[False])
        regs: dict[tuple[str, int], int] = {}
        for function, addr, count in blocks:
            try:
                values = await self.link.read(addr, count, function)  # type: ignore[arg-type]
            except ModbusError as exc:
                if exc.exception_code is None:
                    raise
                await self._fetch_one_by_one(wanted, function, addr, count, regs, exc)
                continue
            regs.update({(function, addr + i): v for i, v in enumerate(values)})
        return regs

    async def _fetch_one_by_one(self, wanted, function, addr, count, regs, exc) -> None:
        required = REQUIRED_POINTS[self.profile.role]
        for name, r in wanted.items():
            if r.point.function != function or not addr <= r.address < addr + count:
                continue
            try:
                for a, n in ((r.address, r.point.count), (r.sf_address, 1)):
                    if a is not None and (function, a) not in regs:
                        values = await self.link.read(a, n, function)
                        regs.update({(function, a + i): v for i, v in enumerate(values)})
            except ModbusError as one:
                if one.exception_code is None or name in required:
                    raise
                self._dropped.add(name)
                log.warning("%s: %s not supported by the device (%s); no longer read",
                            self.link, name, one)

    def _value(self, r: Resolved, regs: dict[tuple[str, int], int]) -> float | int | str | None:
        p = r.point
        try:
            raw = [regs[(p.function, r.address + i)] for i in range(p.count)]
        except KeyError:
            return None
        if p.type != "string" and len(raw) <= 4:
            image = int.from_bytes(b"".join(x.to_bytes(2, "big") for x in raw), "big")
            if image in p.absent:
                return None
        try:
            value = decode(raw, p.type, p.word_order, sunspec=p.sunspec)  # type: ignore[arg-type]
        except CodecError as exc:
            log.warning("%s: %s: %s", self.link, p.name, exc)
            return None
        if value is None or isinstance(value, str):
            return value
        if p.type.startswith("enum") or p.name in ("state", "fault_code"):
            return int(value)
        if r.sf_address is not None:
            sf = decode([regs.get((p.function, r.sf_address), 0x8000)], "sunssf", sunspec=True)
            value = scaled(value, sf)  # type: ignore[arg-type]
            if value is None:
                return None
        return float(value) * p.scale * p.sign

    async def scale_factor(self, r: Resolved) -> int:
        """Current SunSpec scale factor of a writable point (0 when it has none)."""
        if r.sf_address is None:
            return 0
        (raw,) = await self.link.read(r.sf_address, 1, r.point.function)  # type: ignore[arg-type]
        sf = decode([raw], "sunssf", sunspec=True)
        if sf is None or not -10 <= sf <= 10:  # type: ignore[operator]
            raise DeviceError(f"{self.link}: {r.point.name}: scale factor not implemented")
        return int(sf)  # type: ignore[arg-type]

    async def write(self, point: Point, value: float) -> list[int]:
        """Write a value in hems units/sign to a point; returns the registers written."""
        r = self.resolve_point(point)
        if r is None:
            raise DeviceError(f"{self.link}: {point.name}: SunSpec model {list(point.models)} "
                              "is not on this device")
        sf = await self.scale_factor(r)
        raw_value = value * point.sign / point.scale / (10.0 ** sf)
        try:
            regs = encode(raw_value, point.type, point.word_order, point.length)  # type: ignore[arg-type]
        except CodecError as exc:
            raise DeviceError(f"{self.link}: {point.name} = {value}: {exc}") from None
        await self.link.write(r.address, regs)
        return regs

    async def read_point(self, point: Point) -> float | int | str | None:
        """One point, read on its own; an exception reply raises ModbusError (never dropped)."""
        r = self.resolve_point(point)
        if r is None:
            return None
        regs: dict[tuple[str, int], int] = {}
        for a, n in ((r.address, point.count), (r.sf_address, 1)):
            if a is not None:
                values = await self.link.read(a, n, point.function)  # type: ignore[arg-type]
                regs.update({(point.function, a + i): v for i, v in enumerate(values)})
        return self._value(r, regs)
