"""The planning problem: a horizon of equal intervals, the car, the site, and commitments.

Powers in W (EV + = charging), energies in Wh, prices in currency per kWh, SoC in %.
A `Problem` is immutable: its arrays are read-only copies.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import numpy as np

EfficiencyCurve = tuple[np.ndarray, np.ndarray]   # (power_w ascending, efficiency 0..1)

# Sanity limits: beyond these a value is a mistake, not a home (and would exhaust memory)
MAX_INTERVALS = 20_000
MAX_INTERVAL_S = 86_400
MAX_POWER_W = 1.0e6
MAX_CAPACITY_WH = 1.0e6
MAX_PRICE_PER_KWH = 1.0e4
MAX_TARGET_INDEX = 10**9
MIN_STEPS_PER_CAPACITY = 1.0e-5   # soc_step_wh >= capacity * this
MIN_EFFICIENCY = 0.1

_SERIES = ("import_price_per_kwh", "export_price_per_kwh", "pv_w", "load_w")
_LIMITS = {"import_price_per_kwh": MAX_PRICE_PER_KWH, "export_price_per_kwh": MAX_PRICE_PER_KWH,
           "pv_w": MAX_POWER_W * 10, "load_w": MAX_POWER_W * 10, "ev_min_w": MAX_POWER_W * 10,
           "ev_max_w": MAX_POWER_W * 10, "ev_fixed_w": MAX_POWER_W * 10}
_BOUNDS = ("ev_min_w", "ev_max_w", "ev_fixed_w")


class ProblemError(ValueError):
    """A problem that cannot be planned; `field` names the offending entry (JSON path)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Problem:
    """Everything the planner needs, as arrays over the n intervals of the horizon.

    Per interval (length n): prices [currency/kWh], pv_w and load_w [W], plugged [bool],
    optional aggregator bounds ev_min_w / ev_max_w and fixed powers ev_fixed_w [W, NaN = none].
    Targets: target_index[i] = k means the SoC after k intervals is >= target_soc_pct[i].
    """
    interval_s: int
    import_price_per_kwh: np.ndarray
    export_price_per_kwh: np.ndarray
    pv_w: np.ndarray
    load_w: np.ndarray
    plugged: np.ndarray
    capacity_wh: float
    soc_pct: float
    min_charge_w: float = 0.0
    max_charge_w: float = 11000.0
    min_discharge_w: float = 0.0
    max_discharge_w: float = 0.0
    charge_efficiency: float = 0.92
    discharge_efficiency: float = 0.92
    reserve_pct: float = 0.0
    max_soc_pct: float = 100.0
    target_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    target_soc_pct: np.ndarray = field(default_factory=lambda: np.zeros(0))
    degradation_per_kwh: float = 0.0
    terminal_value_per_kwh: float = 0.0
    max_import_w: float = math.inf
    max_export_w: float = math.inf
    ev_min_w: np.ndarray | None = None
    ev_max_w: np.ndarray | None = None
    ev_fixed_w: np.ndarray | None = None
    charge_efficiency_curve: EfficiencyCurve | None = None
    discharge_efficiency_curve: EfficiencyCurve | None = None
    soc_step_wh: float | None = None          # None: chosen from the problem size
    start: datetime | None = None

    def __post_init__(self) -> None:
        n = _horizon(self)
        if n < 1:
            raise ProblemError("import_price_per_kwh", "the horizon needs at least one interval")
        if n > MAX_INTERVALS:
            raise ProblemError("import_price_per_kwh", f"{n} intervals: at most {MAX_INTERVALS}")
        for name in _SERIES:
            _freeze(self, name, _series(name, getattr(self, name), n))
        _freeze(self, "plugged", _series("ev.plugged", self.plugged, n, dtype=bool))
        for name in _BOUNDS:
            value = getattr(self, name)
            if value is not None:
                _freeze(self, name, _series(name, value, n, allow_nan=True))
        idx = np.asarray(self.target_index, dtype=float).reshape(-1)
        soc = np.asarray(self.target_soc_pct, dtype=float).reshape(-1)
        if len(idx) != len(soc):
            raise ProblemError("ev.targets", "target_index and target_soc_pct differ in length")
        if np.any(~np.isfinite(idx)) or np.any(idx != np.round(idx)) or np.any(idx < 0) \
                or np.any(idx > MAX_TARGET_INDEX):
            raise ProblemError("ev.targets", f"every index must be a whole number in 0..{MAX_TARGET_INDEX}")
        if np.any(~np.isfinite(soc)) or np.any((soc < 0) | (soc > 100)):
            raise ProblemError("ev.targets", "every soc_pct must be within 0..100")
        _freeze(self, "target_index", idx.astype(int))
        _freeze(self, "target_soc_pct", soc)
        self._check_scalars()
        for name in ("charge_efficiency_curve", "discharge_efficiency_curve"):
            curve = getattr(self, name)
            if curve is not None:
                object.__setattr__(self, name, _curve(f"ev.{name}", curve))
        if self.start is not None and self.start.tzinfo is None:
            raise ProblemError("start", "must be timezone-aware (for example ...+00:00)")

    def _check_scalars(self) -> None:
        if not (isinstance(self.interval_s, (int, np.integer)) and 0 < self.interval_s <= MAX_INTERVAL_S):
            raise ProblemError("interval_s", f"must be a whole number of seconds in 1..{MAX_INTERVAL_S}, "
                                             f"got {self.interval_s!r}")
        positive = {"capacity_wh": "ev.capacity_wh", "charge_efficiency": "ev.charge_efficiency",
                    "discharge_efficiency": "ev.discharge_efficiency"}
        for name, path in positive.items():
            _number(path, getattr(self, name), lo=0.0, lo_open=True)
        _number("ev.capacity_wh", self.capacity_wh, hi=MAX_CAPACITY_WH)
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not MIN_EFFICIENCY <= getattr(self, name) <= 1.0:
                raise ProblemError(f"ev.{name}", f"must be within [{MIN_EFFICIENCY}, 1], got {getattr(self, name)}")
        for name in ("soc_pct", "reserve_pct", "max_soc_pct"):
            _number(f"ev.{name}", getattr(self, name), lo=0.0, hi=100.0)
        for name in ("min_charge_w", "max_charge_w", "min_discharge_w", "max_discharge_w"):
            _number(f"ev.{name}", getattr(self, name), lo=0.0, hi=MAX_POWER_W)
        for name in ("degradation_per_kwh", "terminal_value_per_kwh"):
            _number(f"ev.{name}", getattr(self, name), lo=0.0, hi=MAX_PRICE_PER_KWH)
        for name in ("max_import_w", "max_export_w"):
            _number(f"site.{name}", getattr(self, name), lo=0.0, allow_inf=True)
        if self.min_charge_w > self.max_charge_w:
            raise ProblemError("ev.min_charge_w", "must not exceed ev.max_charge_w")
        if self.min_discharge_w > self.max_discharge_w:
            raise ProblemError("ev.min_discharge_w", "must not exceed ev.max_discharge_w")
        if self.soc_step_wh is not None:
            _number("soc_step_wh", self.soc_step_wh, lo=self.capacity_wh * MIN_STEPS_PER_CAPACITY)

    @property
    def n(self) -> int:
        return len(self.import_price_per_kwh)

    @property
    def dt_h(self) -> float:
        return self.interval_s / 3600.0

    @property
    def soc_wh(self) -> float:
        return self.soc_pct / 100.0 * self.capacity_wh

    @property
    def floor_wh(self) -> float:
        """Reserve floor: the reserve, or the initial SoC when the car arrives below it."""
        return min(self.reserve_pct, self.soc_pct) / 100.0 * self.capacity_wh

    @property
    def ceiling_wh(self) -> float:
        return max(self.max_soc_pct, self.soc_pct) / 100.0 * self.capacity_wh

    def replace(self, **changes: Any) -> "Problem":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Problem(**values)

    @classmethod
    def from_json(cls, data: Any) -> "Problem":
        """Build a problem from the JSON format in hems/planner/README.md; ProblemError names the bad field."""
        from hems.planner.problem_json import problem_kwargs
        return cls(**problem_kwargs(data))


def _horizon(obj: Problem) -> int:
    """n: the longest per-interval array (a length-1 array stands for a constant)."""
    arrays = [getattr(obj, name) for name in _SERIES + _BOUNDS] + [obj.plugged]
    return max(np.size(a) for a in arrays if a is not None)


def _freeze(obj: Problem, name: str, arr: np.ndarray) -> None:
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    object.__setattr__(obj, name, arr)


def _series(name: str, value: Any, n: int, dtype: type = float, allow_nan: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=dtype).reshape(-1)
    except (TypeError, ValueError):
        raise ProblemError(name, "must be a list of numbers") from None
    if len(arr) == 1 and n > 1:
        arr = np.repeat(arr, n)
    if len(arr) != n:
        raise ProblemError(name, f"has {len(arr)} values, the horizon has {n} intervals")
    if dtype is float:
        bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
        if np.any(bad):
            raise ProblemError(name, f"value at index {int(np.argmax(bad))} is not a finite number")
        limit = _LIMITS.get(name.split(".")[-1], math.inf)
        big = np.abs(np.nan_to_num(arr)) > limit
        if np.any(big):
            raise ProblemError(name, f"value at index {int(np.argmax(big))} is beyond +/-{limit:g}")
    return arr


def _number(name: str, value: Any, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, allow_inf: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ProblemError(name, f"must be a number, got {value!r}")
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ProblemError(name, f"must be a finite number, got {value!r}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ProblemError(name, f"must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    if hi is not None and value > hi:
        raise ProblemError(name, f"must be <= {hi:g}, got {value!r}")


def _curve(name: str, curve: Any) -> EfficiencyCurve:
    try:
        power_w = np.asarray(curve[0], dtype=float).reshape(-1)
        eff = np.asarray(curve[1], dtype=float).reshape(-1)
    except (TypeError, ValueError, IndexError, KeyError):
        raise ProblemError(name, "must be a pair (power_w list, efficiency list)") from None
    if len(power_w) < 1 or len(power_w) != len(eff):
        raise ProblemError(name, "power_w and efficiency must be non-empty and equally long")
    if np.any(~np.isfinite(power_w)) or np.any(np.diff(power_w) <= 0) or power_w[0] < 0:
        raise ProblemError(name, "power_w must be finite, >= 0 and strictly increasing")
    if np.any(~np.isfinite(eff)) or np.any((eff < MIN_EFFICIENCY) | (eff > 1)):
        raise ProblemError(name, f"efficiency values must be within [{MIN_EFFICIENCY}, 1]")
    power_w.setflags(write=False)
    eff.setflags(write=False)
    return power_w, eff


def parse_start(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProblemError("start", "must be an ISO 8601 time string")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProblemError("start", f"is not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise ProblemError("start", "must include a UTC offset, for example +00:00")
    return when.astimezone(timezone.utc)
