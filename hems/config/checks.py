"""Reading helpers: a `Table` that remembers used keys and collects errors, and the value checks.

Every check appends "key.path: <value> <problem>" and carries on, so one pass finds every problem.
"""
from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
import zoneinfo
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable


class ConfigError(Exception):
    """Every problem found in a config, one message per problem in `.errors`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


MISSING: Any = object()


class _Bad(Exception):
    """A value failed a check; the message completes "<value> ..."."""


def show(value: Any) -> str:
    """A value as the user wrote it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


class _Check:
    def __init__(self, expected: str, fn: Callable[[Any], Any]) -> None:
        self.expected, self.fn = expected, fn

    def __call__(self, value: Any) -> Any:
        try:
            return self.fn(value)
        except _Bad:
            raise
        except (TypeError, ValueError, KeyError):
            raise _Bad(f"is not {self.expected}") from None


class Table:
    """One TOML table being read: remembers which keys were used, collects errors."""

    def __init__(self, errors: list[str], path: str, data: dict[str, Any]) -> None:
        self.errors, self.path, self.data, self.used = errors, path, data, set()

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def error(self, k: str, message: str) -> None:
        self.errors.append(f"{self.key(k)}: {message}")

    def error_at(self, message: str) -> None:
        self.errors.append(f"{self.path or '<top>'}: {message}")

    def get(self, k: str, check: _Check, default: Any = MISSING) -> Any:
        self.used.add(k)
        if k not in self.data:
            if default is MISSING:
                self.error(k, f"missing: expected {check.expected}")
                return None
            return default
        value = self.data[k]
        try:
            return check(value)
        except _Bad as exc:
            self.error(k, f"{show(value)} {exc}")
            return None

    def table(self, k: str, required: bool) -> Table | None:
        self.used.add(k)
        if k not in self.data:
            if required:
                self.error(k, "missing: expected a table [" + self.key(k) + "]")
            return None
        value = self.data[k]
        if not isinstance(value, dict):
            self.error(k, f"{show(value)} is not a table")
            return None
        return Table(self.errors, self.key(k), value)

    def array_of_tables(self, k: str) -> list[Table]:
        self.used.add(k)
        value = self.data.get(k)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            shown = "missing" if value is None else show(value)
            self.error(k, f"{shown}: expected one or more [[{self.key(k)}]] tables")
            return []
        return [Table(self.errors, f"{self.key(k)}[{i}]", v) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Report keys nobody asked for: a typo must not pass silently."""
        for k in self.data:
            if k not in self.used:
                close = difflib.get_close_matches(k, sorted(self.used), n=1)
                hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(sorted(self.used))})"
                self.error(k, f"unknown key{hint}")


def number(lo: float, hi: float, expected: str, lo_open: bool = False) -> _Check:
    def fn(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError             # TOML allows nan and inf: refused as not a number
        if v < lo or v > hi or (lo_open and v == lo):
            raise ValueError
        return float(v)
    return _Check(expected, fn)


def integer(lo: int, hi: int, expected: str) -> _Check:
    def fn(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError
        return v
    return _Check(expected, fn)


def choice(*options: Any, what: str | None = None) -> _Check:
    shown = ", ".join(show(o) for o in options[:-1]) + (" or " if len(options) > 1 else "") + show(options[-1])
    expected = f"{what} ({shown})" if what else shown

    def fn(v: Any) -> Any:
        if isinstance(v, bool) or v not in options or type(v) is not type(options[options.index(v)]):
            raise ValueError
        return v
    return _Check(expected, fn)


def string(expected: str) -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise ValueError
        return v
    return _Check(expected, fn)


def ip_address() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError
        if v != "localhost":
            ipaddress.ip_address(v)
        return v
    return _Check('an IP address to listen on, e.g. "127.0.0.1", or "0.0.0.0" for the home network', fn)


def boolean() -> _Check:
    def fn(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValueError
        return v
    return _Check("true or false", fn)


def timezone() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v:
            raise ValueError
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError from None
        return v
    return _Check('an IANA time zone, e.g. "Europe/Paris"', fn)


def clock_time(allow_24: bool = False) -> _Check:
    def fn(v: Any) -> time:
        if isinstance(v, time) and v.tzinfo is None:   # TOML local time, e.g. 07:30:00 unquoted
            return v.replace(second=0, microsecond=0)
        if not isinstance(v, str) or not re.fullmatch(r"\d\d:\d\d", v):
            raise ValueError
        h, m = int(v[:2]), int(v[3:])
        if allow_24 and (h, m) == (24, 0):
            return time(0, 0)
        return time(h, m)
    return _Check('a local time "HH:MM"' + (' (up to "24:00")' if allow_24 else ""), fn)


def iso_date(first: str, last: str) -> _Check:
    def fn(v: Any) -> str:
        if isinstance(v, date) and not isinstance(v, datetime):   # TOML date, unquoted
            v = v.isoformat()
        if not isinstance(v, str) or not first <= date.fromisoformat(v).isoformat() <= last:
            raise ValueError
        return v
    return _Check(f'a date "YYYY-MM-DD" from {first} to {last}', fn)


def identifier() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v):
            raise ValueError
        return v
    return _Check("an id of letters, digits, _ and - (1-64 characters)", fn)


def topic_prefix() -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not v or any(c in v for c in "+#\0") or v.startswith("/") or v.endswith("/"):
            raise ValueError
        return v
    return _Check('an MQTT topic prefix without wildcards or outer slashes, e.g. "hems/v1"', fn)


def file_path(base: Path, expected: str, must_exist: bool = True) -> _Check:
    def fn(v: Any) -> Path:
        if not isinstance(v, str) or not v:
            raise ValueError
        p = (base / v).resolve()
        if must_exist and not p.is_file():
            raise _Bad(f"is not {expected} (no such file: {p})")
        return p
    return _Check(expected, fn)


SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))


def dir_path(base: Path) -> _Check:
    def fn(v: Any) -> Path:
        if not isinstance(v, str) or not v:
            raise ValueError
        p = (base / v).resolve()
        for system in SYSTEM_DIRS:
            if p == system or system in p.parents:
                raise _Bad(f"is under {system}, a kernel file system, not storage (resolved: {p})")
        if p.exists() and not p.is_dir():
            raise _Bad(f"is not a folder (a file is in the way: {p})")
        return p
    return _Check("a folder path (relative to the config file)", fn)


def day_list(names: tuple[str, ...]) -> _Check:
    groups = {"all": names, "weekdays": names[:5], "weekend": names[5:]}

    def fn(v: Any) -> tuple[int, ...]:
        if isinstance(v, str) and v in groups:
            v = list(groups[v])
        if not isinstance(v, list) or not v or not all(isinstance(d, str) and d in names for d in v):
            raise ValueError
        return tuple(sorted({names.index(d) for d in v}))
    return _Check('"all", "weekdays", "weekend" or a list of "mon".."sun"', fn)


def week_coverage(periods: list[tuple[tuple[int, ...], time, time]], names: tuple[str, ...]) -> list[str]:
    """Problems with a set of weekly periods: each minute of the week must be in exactly one."""
    count = [0] * (7 * 1440)
    for days, start, end in periods:
        a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        length = (b - a) % 1440 or 1440
        for d in days:
            for m in range(d * 1440 + a, d * 1440 + a + length):
                count[m % len(count)] += 1
    problems = []
    for label, bad in (("not covered by any period", lambda c: c == 0),
                       ("covered by more than one period", lambda c: c > 1)):
        for first, last in _runs([i for i, c in enumerate(count) if bad(c)])[:3]:
            problems.append(f"{names[first // 1440]} {_hhmm(first, False)}-{_hhmm(last + 1, True)} is {label}")
    return problems


def _runs(minutes: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for m in minutes:
        if runs and runs[-1][1] == m - 1 and m % 1440:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    return runs


def _hhmm(minute_of_week: int, is_end: bool) -> str:
    m = minute_of_week % 1440 or (1440 if is_end else 0)
    return f"{m // 60:02d}:{m % 60:02d}"
