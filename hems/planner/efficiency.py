"""AC charging efficiency against power, from a current-step table such as
hems/data/ev_specs_v2g_enabled2024.json (efficiency in % per current step, 0 = not supported)."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from hems.planner.problem import EfficiencyCurve, ProblemError


def curve_from_current_steps(current_a: list[float], efficiency_pct: list[float], phases: int = 3,
                             voltage_v: float = 230.0) -> EfficiencyCurve:
    """(power_w, efficiency 0..1) for Problem.charge_efficiency_curve; steps with 0 % are dropped."""
    if phases not in (1, 3):
        raise ProblemError("phases", f"must be 1 or 3, got {phases!r}")
    amps = np.asarray(current_a, dtype=float)
    eff = np.asarray(efficiency_pct, dtype=float)
    if amps.shape != eff.shape or amps.ndim != 1:
        raise ProblemError("efficiency", "current and efficiency lists must be equally long")
    keep = eff > 0
    if not keep.any():
        raise ProblemError("efficiency", f"no supported current step on {phases} phase(s)")
    power_w = amps[keep] * voltage_v * phases
    order = np.argsort(power_w)
    return power_w[order], eff[keep][order] / 100.0


def curve_from_spec(spec: Mapping[str, Any], phases: int = 3, voltage_v: float = 230.0) -> EfficiencyCurve:
    """The curve of one model's entry in ev_specs_v2g_enabled2024.json."""
    key = "3ph_ch_efficiency" if phases == 3 else "1ph_ch_efficiency"
    try:
        return curve_from_current_steps(spec["ch_current"], spec[key], phases, voltage_v)
    except KeyError as exc:
        raise ProblemError(str(exc.args[0]), "missing from the EV spec") from None
