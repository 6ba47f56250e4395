"""Load and check profile files: `load_profile("sdm630")`, `load_profile("sunspec", role="pv")`."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from hems.devices.profiles.schema import (
    CONTROL_POINTS, HOOKS, REQUIRED_POINTS, ROLE_POINTS, ROLES, WRITE_LISTS, Check, Heartbeat,
    Profile, ProfileError, Write, _Ctx, parse_point,
)
from hems.devices.profiles.connectors import for_connector
from hems.domain import ChargerState

PROFILE_DIR = Path(__file__).parent
_TOP_KEYS = {"profile", "points", "control", "states", "identify"}
_PROFILE_KEYS = {"title", "manufacturer", "role", "hook", "transport", "unit", "port", "connectors"}
_CONNECTOR_KEYS = {"stride", "count"}


def available_profiles() -> list[str]:
    """Every profile name shipped with hems, plus the "sunspec" alias."""
    return sorted([p.stem for p in PROFILE_DIR.glob("*.toml")] + ["sunspec"])


def resolve_name(name: str, role: str | None) -> str:
    """"sunspec" means: discover whatever SunSpec models the device has for this role."""
    if name == "sunspec":
        if role not in ROLES:
            raise ProfileError(f"profile 'sunspec' needs a role ({', '.join(ROLES)}), got {role!r}")
        return f"sunspec_{role}"
    return name


def load_profile(name_or_path: str | Path, role: str | None = None,
                 connector: int | None = None) -> Profile:
    """Load a shipped profile by name, or any profile file by path. Raises ProfileError.

    `connector` picks one connector of a multi-connector charger (a `[profile.connectors]`
    table): the points of connector 1 are moved to connector n's register object.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        name = resolve_name(str(name_or_path), role)
        path = PROFILE_DIR / f"{name}.toml"
        if not path.is_file():
            raise ProfileError(f"unknown device profile {name!r}; known: "
                               f"{', '.join(available_profiles())}")
    profile = _load_path(str(path.resolve()))
    if role is not None and profile.role != role:
        raise ProfileError(f"{path.name}: profile is for role {profile.role!r}, not {role!r}")
    return profile if connector is None else for_connector(profile, connector)


@lru_cache(maxsize=64)
def _load_path(path: str) -> Profile:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{p.name}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{p.name}: not valid TOML: {exc}") from None
    return parse_profile(data, source=p.name, name=p.stem)


def parse_profile(data: dict[str, Any], source: str, name: str) -> Profile:
    """Check a parsed TOML document against the schema; all errors in one ProfileError."""
    ctx = _Ctx(source)
    ctx.unknown(data, _TOP_KEYS, "")
    head = data.get("profile")
    if not isinstance(head, dict):
        raise ProfileError(f"{source}: profile: table is required")
    ctx.unknown(head, _PROFILE_KEYS, "profile")
    role = ctx.need(head, "role", str, "profile")
    if role is not None and role not in ROLES:
        ctx.err("profile.role", f"{role!r} is not one of {list(ROLES)}")
        role = None
    hook = ctx.need(head, "hook", str, "profile", "none")
    if hook not in HOOKS:
        ctx.err("profile.hook", f"{hook!r} is not one of {list(HOOKS)}")
    transport = ctx.need(head, "transport", str, "profile", "tcp")
    if transport not in ("tcp", "rtu"):
        ctx.err("profile.transport", f"{transport!r} is not 'tcp' or 'rtu'")
    points = _points(ctx, data.get("points"), role)
    controls, writes, heartbeat = _control(ctx, data.get("control", {}), role)
    states = _states(ctx, data.get("states", {}))
    if role == "charger" and not states:
        ctx.err("states", "a charger profile needs a [states] table (raw value = state name)")
    identify = _identify(ctx, data.get("identify", {}), points)
    stride, count = _connectors(ctx, head.get("connectors"))
    if ctx.errors:
        raise ProfileError("\n".join(ctx.errors))
    return Profile(name=name, role=role, title=ctx.need(head, "title", str, "profile", name),
                   manufacturer=ctx.need(head, "manufacturer", str, "profile", ""), source=source,
                   points=points, controls=controls, writes=writes, heartbeat=heartbeat,
                   states=states, identify=identify, hook=hook, transport=transport,
                   default_unit=ctx.need(head, "unit", int, "profile", 1),
                   default_port=ctx.need(head, "port", int, "profile", 502),
                   connector_stride=stride, connector_count=count)


def _points(ctx: _Ctx, table: Any, role: str | None) -> dict:
    if not isinstance(table, dict) or not table:
        ctx.err("points", "table is required")
        return {}
    known = ROLE_POINTS.get(role or "", {})
    out = {}
    for pname, t in table.items():
        if role and pname not in known:
            ctx.err(f"points.{pname}", f"unknown point for a {role} (expected one of {sorted(known)})")
            continue
        point = parse_point(ctx, pname, t, f"points.{pname}", known.get(pname))
        if point is not None:
            out[pname] = point
    for req in REQUIRED_POINTS.get(role or "", ()):
        if req not in table:
            ctx.err(f"points.{req}", f"is required for a {role}")
    return out


def _control(ctx: _Ctx, table: Any, role: str | None):
    controls, writes, heartbeat = {}, {}, None
    if not isinstance(table, dict):
        ctx.err("control", "must be a table")
        return controls, writes, heartbeat
    allowed = set(CONTROL_POINTS.get(role or "", {})) | set(WRITE_LISTS) | {"heartbeat"}
    ctx.unknown(table, allowed, "control")
    for cname, unit in CONTROL_POINTS.get(role or "", {}).items():
        if cname in table:
            p = parse_point(ctx, cname, table[cname], f"control.{cname}", unit)
            if p is not None:
                controls[cname] = p
    for lname in WRITE_LISTS:
        items = table.get(lname, [])
        if not isinstance(items, list):
            ctx.err(f"control.{lname}", "must be an array of tables ([[control.%s]])" % lname)
            continue
        parsed = []
        for i, item in enumerate(items):
            path = f"control.{lname}[{i}]"
            if not isinstance(item, dict) or "value" not in item:
                ctx.err(path, "needs a `value` and an address")
                continue
            body = {k: v for k, v in item.items() if k != "value"}
            p = parse_point(ctx, lname, body, path, None)
            value = ctx.need(item, "value", float, path)
            if p is not None and value is not None:
                parsed.append(Write(p, value))
        if parsed:
            writes[lname] = tuple(parsed)
    hb = table.get("heartbeat")
    if hb is not None:
        if not isinstance(hb, dict):
            ctx.err("control.heartbeat", "must be a table")
        else:
            timeout_s = ctx.need(hb, "timeout_s", float, "control.heartbeat")
            if timeout_s is not None and not 1 <= timeout_s <= 3600:
                ctx.err("control.heartbeat.timeout_s", f"{timeout_s} is not within 1..3600 s")
            body = {k: v for k, v in hb.items() if k != "timeout_s"}
            p = parse_point(ctx, "heartbeat", body, "control.heartbeat", "s")
            if p is not None and timeout_s is not None:
                heartbeat = Heartbeat(p, timeout_s)
    if role == "charger" and "setpoint_w" not in table:
        ctx.err("control.setpoint_w", "a charger profile needs a setpoint")
    return controls, writes, heartbeat


def _states(ctx: _Ctx, table: Any) -> dict[int, ChargerState]:
    out: dict[int, ChargerState] = {}
    if not isinstance(table, dict):
        ctx.err("states", "must be a table")
        return out
    names = {s.value: s for s in ChargerState}
    for raw, sname in table.items():
        try:
            key = int(raw, 0)
        except ValueError:
            ctx.err(f"states.{raw}", "key is not an integer")
            continue
        if sname not in names:
            ctx.err(f"states.{raw}", f"{sname!r} is not one of {sorted(names)}")
            continue
        out[key] = names[sname]
    return out


def _identify(ctx: _Ctx, table: Any, points: dict) -> tuple[Check, ...]:
    if not isinstance(table, dict):
        ctx.err("identify", "must be a table")
        return ()
    ctx.unknown(table, {"checks"}, "identify")
    out = []
    for i, c in enumerate(table.get("checks", [])):
        path = f"identify.checks[{i}]"
        if not isinstance(c, dict):
            ctx.err(path, "must be a table")
            continue
        ctx.unknown(c, {"point", "min", "max"}, path)
        pname = ctx.need(c, "point", str, path)
        lo, hi = ctx.need(c, "min", float, path), ctx.need(c, "max", float, path)
        if pname is not None and pname not in points:
            ctx.err(f"{path}.point", f"{pname!r} is not a point of this profile")
        elif None not in (pname, lo, hi):
            out.append(Check(pname, lo, hi))
    return tuple(out)


def _connectors(ctx: _Ctx, table: Any) -> tuple[int, int]:
    """(stride, count) of a multi-connector charger; (0, 1) when the table is absent."""
    if table is None:
        return 0, 1
    if not isinstance(table, dict):
        ctx.err("profile.connectors", "must be a table (stride, count)")
        return 0, 1
    ctx.unknown(table, _CONNECTOR_KEYS, "profile.connectors")
    stride = ctx.need(table, "stride", int, "profile.connectors")
    count = ctx.need(table, "count", int, "profile.connectors")
    if stride is not None and stride < 1:
        ctx.err("profile.connectors.stride", f"{stride} is not a positive number of registers")
    if count is not None and count < 1:
        ctx.err("profile.connectors.count", f"{count} is not a positive number of connectors")
    if stride is None or count is None or stride < 1 or count < 1:
        return 0, 1
    return stride, count
