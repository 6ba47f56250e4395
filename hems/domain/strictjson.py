"""JSON parsing for untrusted input: every edge (MQTT, HTTP, files written by others) uses it.

`loads(data)` is json.loads with what the standard library lets through refused, each with a
message that says what was wrong (raised as StrictJsonError, a ValueError):
  - NaN, Infinity and -Infinity (and numbers too large to be finite, such as 1e999);
  - nesting deeper than `max_depth` (json.loads itself raises RecursionError near 1000 levels);
  - text that is not UTF-8, and strings holding a lone surrogate (\\ud800 alone cannot be
    encoded again, so it would fail later in a signature check or a log line).
Pure: no I/O.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJsonError(ValueError):
    """Input that is not acceptable JSON; str(self) names the problem."""


def _refuse_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a number hems accepts (non-finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"number {text[:40]} is too large (not finite)")
    return value


def loads(data: str | bytes | bytearray, max_depth: int = MAX_DEPTH) -> Any:
    """Parse untrusted JSON text; raise StrictJsonError naming the problem."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJsonError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        doc = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except StrictJsonError:
        raise
    except RecursionError:
        raise StrictJsonError(f"nested too deeply (more than {max_depth} levels)") from None
    except json.JSONDecodeError as exc:
        raise StrictJsonError(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError as exc:       # e.g. an integer with more digits than Python converts
        raise StrictJsonError(f"not valid JSON: {exc}") from None
    check(doc, max_depth)
    return doc


def check(doc: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse too deep nesting, lone surrogates and non-finite floats in an already parsed
    document (iterative: a deep document cannot exhaust the stack here)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise StrictJsonError(f"{node} is not a number hems accepts (non-finite)")
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                raise StrictJsonError(f"nested too deeply (more than {max_depth} levels)")
            if isinstance(node, dict):
                for key, value in node.items():
                    _check_text(key)
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)


def _check_text(text: str) -> None:
    if _SURROGATE.search(text):
        raise StrictJsonError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), not text")
