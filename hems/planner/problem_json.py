"""The JSON problem format (hems/planner/README.md) -> keyword arguments of `Problem`.

Every error is a ProblemError naming the JSON path of the bad entry.
"""
from __future__ import annotations

import math
from typing import Any

from hems.planner.problem import ProblemError, parse_start

_TOP = {"interval_s", "start", "import_price_per_kwh", "export_price_per_kwh", "pv_w", "load_w",
        "ev", "site", "aggregator", "soc_step_wh"}
_EV_SCALARS = ("capacity_wh", "soc_pct", "min_charge_w", "max_charge_w", "min_discharge_w",
               "max_discharge_w", "charge_efficiency", "discharge_efficiency", "reserve_pct",
               "max_soc_pct", "degradation_per_kwh", "terminal_value_per_kwh")
_EV_KEYS = set(_EV_SCALARS) | {"plugged", "targets", "charge_efficiency_curve",
                               "discharge_efficiency_curve"}
_SITE_KEYS = {"max_import_w", "max_export_w"}
_AGG_KEYS = {"ev_min_w", "ev_max_w", "ev_fixed_w"}
_REQUIRED_EV = ("capacity_wh", "soc_pct", "plugged")


def problem_kwargs(data: Any) -> dict[str, Any]:
    obj = _object("problem", data, _TOP)
    for key in ("interval_s", "import_price_per_kwh", "export_price_per_kwh", "ev"):
        if key not in obj:
            raise ProblemError(key, "is required")
    interval_s = obj["interval_s"]
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)) \
            or not math.isfinite(interval_s) or interval_s != int(interval_s) or interval_s <= 0:
        raise ProblemError("interval_s", f"must be a whole number of seconds > 0, got {interval_s!r}")
    kwargs: dict[str, Any] = {"interval_s": int(interval_s), "start": parse_start(obj.get("start"))}
    for key in ("import_price_per_kwh", "export_price_per_kwh"):
        kwargs[key] = _numbers(key, obj[key])
    for key in ("pv_w", "load_w"):
        kwargs[key] = _numbers(key, obj.get(key, [0.0]))
    if "soc_step_wh" in obj:
        kwargs["soc_step_wh"] = _scalar("soc_step_wh", obj["soc_step_wh"])
    kwargs.update(_ev(obj["ev"]))
    site = _object("site", obj.get("site", {}), _SITE_KEYS)
    for key in _SITE_KEYS:
        if site.get(key) is not None:
            kwargs[key] = _scalar(f"site.{key}", site[key])
    agg = _object("aggregator", obj.get("aggregator", {}), _AGG_KEYS)
    for key in _AGG_KEYS:
        if agg.get(key) is not None:
            kwargs[key] = _numbers(f"aggregator.{key}", agg[key], allow_null=True)
    return kwargs


def _ev(data: Any) -> dict[str, Any]:
    ev = _object("ev", data, _EV_KEYS)
    for key in _REQUIRED_EV:
        if key not in ev:
            raise ProblemError(f"ev.{key}", "is required")
    out: dict[str, Any] = {k: _scalar(f"ev.{k}", ev[k]) for k in _EV_SCALARS if k in ev}
    plugged = ev["plugged"]
    if isinstance(plugged, bool):
        plugged = [plugged]
    if not isinstance(plugged, list) or not all(isinstance(p, bool) for p in plugged):
        raise ProblemError("ev.plugged", "must be a list of true/false")
    out["plugged"] = plugged
    targets = ev.get("targets", [])
    if not isinstance(targets, list):
        raise ProblemError("ev.targets", "must be a list of {index, soc_pct}")
    index, soc = [], []
    for i, target in enumerate(targets):
        t = _object(f"ev.targets[{i}]", target, {"index", "soc_pct"})
        k = t.get("index")
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ProblemError(f"ev.targets[{i}].index", f"must be a whole number >= 0, got {k!r}")
        index.append(k)
        soc.append(_scalar(f"ev.targets[{i}].soc_pct", t.get("soc_pct")))
    out["target_index"], out["target_soc_pct"] = index, soc
    for key in ("charge_efficiency_curve", "discharge_efficiency_curve"):
        if ev.get(key) is not None:
            curve = _object(f"ev.{key}", ev[key], {"power_w", "efficiency"})
            out[key] = (_numbers(f"ev.{key}.power_w", curve.get("power_w")),
                        _numbers(f"ev.{key}.efficiency", curve.get("efficiency")))
    return out


def _object(path: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProblemError(path, f"must be an object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ProblemError(f"{path}.{unknown[0]}" if path != "problem" else unknown[0],
                           f"unknown field (known: {', '.join(sorted(allowed))})")
    return value


def _scalar(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProblemError(path, f"must be a number, got {value!r}")
    if math.isnan(value):
        raise ProblemError(path, "must be a number, got NaN")
    return float(value)


def _numbers(path: str, value: Any, allow_null: bool = False) -> list[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ProblemError(path, "must be a non-empty list of numbers")
    out = []
    for i, v in enumerate(value):
        if v is None and allow_null:
            out.append(math.nan)
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ProblemError(f"{path}[{i}]", f"must be a finite number, got {v!r}")
        else:
            out.append(float(v))
    return out
