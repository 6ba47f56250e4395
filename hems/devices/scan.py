"""`hems scan`: find Modbus devices on a TCP host or a serial bus, and print config snippets.

For each unit id: look for SunSpec (base 40000, 0, 50000); if there is none, try the known
profiles that say how to recognise their device ([identify] in the profile). For each device
found: manufacturer, model, serial, SunSpec models or profile, one live reading, and a
`[devices.NAME]` table for config.toml. Silent or unreachable units are reported plainly.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field

from hems.devices.drivers.engine import ProfileEngine
from hems.devices.factory import make_driver
from hems.devices.modbus import (
    CannotConnect, ModbusBus, ModbusError, SerialEndpoint, SunSpecNotFound, TcpEndpoint, discover, read_common,
)
from hems.devices.modbus.sunspec import GATEWAY_NO_TARGET
from hems.devices.ports import DeviceError
from hems.devices.profiles import ProfileError, available_profiles, load_profile

log = logging.getLogger(__name__)

ROLE_MODELS = {"charger": (701, 704), "pv": (101, 102, 103), "meter": (201, 202, 203, 204)}


@dataclass
class Found:
    unit: int
    role: str
    profile: str                      # profile name to put in config.toml
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    sunspec_models: tuple[int, ...] = ()
    reading: str = ""


@dataclass
class ScanResult:
    found: list[Found] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)          # no answer at all
    absent: list[int] = field(default_factory=list)          # a gateway says: no such unit
    refused: dict[int, str] = field(default_factory=dict)     # answered, but nothing known


def parse_units(text: str) -> list[int]:
    """"1-247", "1,3,10-12" -> sorted unit ids; ValueError naming the bad part."""
    units: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"--units: {part!r} is not a unit id or a range like 1-247") from None
        if not 1 <= a <= b <= 247:
            raise ValueError(f"--units: {part!r} is outside 1-247 (or the range is reversed)")
        units.update(range(a, b + 1))
    return sorted(units)


def describe(reading) -> str:
    """One live reading in words, hems signs."""
    name = type(reading).__name__
    if name == "MeterReading":
        direction = "import" if reading.grid_power_w >= 0 else "export"
        return f"grid {_w(reading.grid_power_w)} W ({direction})"
    if name == "PvReading":
        return f"PV {_w(reading.pv_power_w)} W"
    soc = f", SoC {reading.soc_pct:.0f} %" if reading.soc_pct is not None else ""
    return f"EV {_w(reading.ev_power_w)} W, {reading.state.value}{soc}"


def _w(power_w: float) -> str:
    return str(round(power_w) + 0)     # no "-0"


async def _live(role: str, profile_name: str, link) -> str:
    try:
        drv = make_driver(role, load_profile(profile_name, role=role), link)
        return describe(await drv.read())
    except (DeviceError, ProfileError) as exc:
        return f"no reading ({exc})"


async def _sunspec(link, unit: int) -> list[Found]:
    smap = await discover(link)
    try:
        info = await read_common(link, smap)
    except ModbusError:
        info = None
    out = []
    for role, models in ROLE_MODELS.items():
        if smap.find(*models) is None:
            continue
        if role == "meter" and out:
            continue        # an inverter or charger with a built-in meter model: one entry
        out.append(Found(unit, role, "sunspec", info and info.manufacturer, info and info.model,
                         info and info.serial, smap.model_ids,
                         await _live(role, "sunspec", link)))
    if not out:
        out.append(Found(unit, "unknown", "sunspec", info and info.manufacturer,
                         info and info.model, info and info.serial, smap.model_ids,
                         "no meter, PV or charger model"))
    return out


async def _by_profile(link, unit: int) -> Found | None:
    candidates = [load_profile(n) for n in available_profiles()
                  if n != "sunspec" and not n.startswith("sunspec_")]
    # the most specific description first: an SDM630 also passes the SDM120's checks
    candidates.sort(key=lambda p: (-len(p.identify), p.name))
    for profile in candidates:
        if not profile.identify:
            continue
        name = profile.name
        engine = ProfileEngine(profile, link)
        try:
            for check in profile.identify:
                value = await engine.read_point(profile.points[check.point])
                if value is None or not check.min <= float(value) <= check.max:
                    break
            else:
                return Found(unit, profile.role, name, profile.manufacturer, profile.title,
                             reading=await _live(profile.role, name, link))
        except ModbusError as exc:
            if exc.exception_code is None:
                raise
    return None


async def scan_unit(bus: ModbusBus, unit: int) -> list[Found] | str | None:
    """Devices on one unit id; None if silent; "absent" if a gateway says there is no such
    unit; otherwise a reason string when it answered but matched nothing."""
    link = bus.unit(unit)
    try:
        return await _sunspec(link, unit)
    except CannotConnect:
        raise
    except SunSpecNotFound as exc:
        reason = str(exc)
    except ModbusError as exc:
        if exc.exception_code is None:
            return None
        if exc.exception_code in GATEWAY_NO_TARGET:
            return "absent"
        reason = str(exc)
    try:
        found = await _by_profile(link, unit)
    except CannotConnect:
        raise
    except ModbusError:
        return None
    return [found] if found else reason


async def scan(bus: ModbusBus, units: list[int], progress=None) -> ScanResult:
    result = ScanResult()
    for i, unit in enumerate(units, 1):
        if progress:
            progress(i, len(units), unit, result)
        got = await scan_unit(bus, unit)
        if got is None:
            result.silent.append(unit)
        elif got == "absent":
            result.absent.append(unit)
        elif isinstance(got, str):
            result.refused[unit] = got
        else:
            result.found.extend(got)
    await bus.close()
    return result


def snippet(found: Found, endpoint, name: str | None = None) -> str:
    """A [devices.NAME] table for config.toml."""
    lines = [f"[devices.{name or found.role}]", f'role = "{found.role}"',
             f'profile = "{found.profile}"']
    if isinstance(endpoint, TcpEndpoint):
        lines += ['transport = "tcp"', f'host = "{endpoint.host}"', f"port = {endpoint.port}"]
    else:
        lines += ['transport = "rtu"', f'serial_port = "{endpoint.port}"',
                  f"baudrate = {endpoint.baudrate}", f'parity = "{endpoint.parity}"',
                  f"stopbits = {endpoint.stopbits}"]
    lines += [f"unit = {found.unit}", "poll_interval_s = 2", "timeout_s = 3"]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--host", help="Modbus TCP host (a device or a gateway)")
    where.add_argument("--serial", metavar="PORT", help="serial port of an RS485 bus, e.g. /dev/ttyUSB0")
    parser.add_argument("--port", type=int, default=502, help="TCP port (default 502)")
    parser.add_argument("--baudrate", type=int, default=9600, help="serial baud rate (default 9600)")
    parser.add_argument("--parity", choices=("N", "E", "O"), default="N")
    parser.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    parser.add_argument("--units", default="1-247", help="unit ids: 1-247, 1,2,10-20 (default 1-247)")
    parser.add_argument("--timeout", type=float, default=0.5, help="seconds to wait per request")
    parser.add_argument("-v", "--verbose", dest="details", action="store_true",
                        help="why each unit id that answered was not recognised")


def _progress(stream):
    tty = stream.isatty()

    def show(i, n, unit, result):
        text = f"scanning unit {unit} ({i}/{n}), found {len(result.found)}"
        if tty:
            stream.write("\r" + text.ljust(60))
        elif i == 1 or i % 25 == 0 or i == n:
            stream.write(text + "\n")
        stream.flush()
    return show


def report(result: ScanResult, endpoint, out=sys.stdout, details: bool = False) -> None:
    """What was found, a config snippet for it, and one line for the rest (each unit with
    `details`, as `hems scan -v` asks)."""
    w = out.write
    if not result.found:
        w(f"No known device found on {endpoint}.\n")
    for f in result.found:
        w(f"\nunit {f.unit}: {f.role}\n")
        w(f"  manufacturer: {f.manufacturer or '-'}\n  model:        {f.model or '-'}\n"
          f"  serial:       {f.serial or '-'}\n")
        if f.sunspec_models:
            w(f"  SunSpec models: {', '.join(map(str, f.sunspec_models))}\n")
        w(f"  profile:      {f.profile}\n  reading:      {f.reading}\n")
    if result.refused and details:
        w("\nAnswered but not recognised:\n")
        for unit, why in result.refused.items():
            w(f"  unit {unit}: {why}\n")
    elif result.refused:
        w(f"\n{len(result.refused)} unit id(s) answered but are no device hems knows: "
          f"{_ranges(sorted(result.refused))} (hems scan -v for each reason)\n")
    if result.absent:
        w(f"\nThe gateway has no device at unit id(s): {_ranges(result.absent)}\n")
    if result.silent:
        w(f"\nNo answer from {len(result.silent)} unit id(s): {_ranges(result.silent)}\n")
    names: dict[str, int] = {}
    snippets = []
    for f in result.found:
        if f.role == "unknown":
            continue
        names[f.role] = names.get(f.role, 0) + 1
        name = f.role if names[f.role] == 1 else f"{f.role}{names[f.role]}"
        snippets.append(snippet(f, endpoint, name))
    if snippets:
        w("\n# --- paste into config.toml ---\n" + "\n\n".join(snippets) + "\n")


def _ranges(units: list[int]) -> str:
    out, start = [], None
    for i, u in enumerate(units):
        if start is None:
            start = u
        if i + 1 == len(units) or units[i + 1] != u + 1:
            out.append(str(start) if start == u else f"{start}-{u}")
            start = None
    return ", ".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        units = parse_units(args.units)
    except ValueError as exc:
        print(f"hems scan: {exc}", file=sys.stderr)
        return 2
    if args.host:
        if not 1 <= args.port <= 65535:
            print(f"hems scan: --port {args.port} is not a TCP port (1-65535)", file=sys.stderr)
            return 2
        endpoint = TcpEndpoint(args.host, args.port)
    else:
        endpoint = SerialEndpoint(args.serial, args.baudrate, args.parity, args.stopbits)
    bus = ModbusBus(endpoint, timeout_s=args.timeout)
    try:
        result = asyncio.run(scan(bus, units, _progress(sys.stderr)))
    except KeyboardInterrupt:
        print("\nhems scan: interrupted", file=sys.stderr)
        return 130
    except ModbusError as exc:
        print(f"\nhems scan: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for an installer
        log.debug("scan failed", exc_info=True)
        print(f"\nhems scan: {endpoint}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    sys.stderr.write("\n")
    report(result, endpoint, details=getattr(args, "details", False))
    return 0 if result.found else 1


if __name__ == "__main__":   # python -m hems.devices.scan --host ... (same as `hems scan`)
    _parser = argparse.ArgumentParser(prog="hems scan", description=__doc__.splitlines()[0])
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
