"""Strict reading of provider answers: JSON without NaN/Infinity, finite numbers, aware times."""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

from hems.sources.errors import SourceError


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def load_json(source: str, text: str) -> Any:
    """The JSON document, or SourceError("malformed"); NaN and Infinity are refused."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise SourceError(source, "malformed", f"not valid JSON ({str(exc)[:120]})") from None


def finite(source: str, value: Any, what: str) -> float:
    """A finite number (not a bool), or SourceError("malformed") naming what it was."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SourceError(source, "malformed", f"{what}: {value!r} is not a number")
    try:
        x = float(value)
    except ValueError:
        raise SourceError(source, "malformed", f"{what}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise SourceError(source, "malformed", f"{what}: {value!r} is not a finite number")
    return x


def aware_time(source: str, value: Any, what: str) -> datetime:
    """An ISO 8601 time with an offset or Z, as aware UTC."""
    if not isinstance(value, str):
        raise SourceError(source, "malformed", f"{what}: {value!r} is not a time")
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(source, "malformed", f"{what}: {value!r} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise SourceError(source, "malformed", f"{what}: {value!r} has no UTC offset")
    return t.astimezone(timezone.utc)


def field(source: str, obj: Any, *path: str | int) -> Any:
    """obj[path[0]][path[1]]..., or SourceError("malformed") naming the missing part."""
    cur = obj
    for i, key in enumerate(path):
        try:
            cur = cur[key]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(p) for p in path[: i + 1])
            raise SourceError(source, "malformed", f"answer has no {where}") from None
    return cur
