"""Cost of the home's grid exchange against a charge-on-arrival baseline. Pure numpy.

Baseline: in each plugged session (a run of minutes where the car reports its SoC) the car takes
the same net energy it actually took, but at full power from the moment it arrived and it never
discharges. Both costs price each minute's grid exchange with the same tariff, so the difference
is what hems' planning saved (or, when negative, cost).
Arrays are per minute: powers in W (hems signs), prices per kWh; NaN = not measured.
"""
from __future__ import annotations

import numpy as np


def sessions(soc_pct: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges where the SoC is known (the car is plugged in)."""
    known = np.isfinite(soc_pct).astype(np.int8)
    edges = np.diff(np.concatenate(([0], known, [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def baseline_ev_w(ev_w: np.ndarray, soc_pct: np.ndarray, max_charge_w: float) -> np.ndarray:
    """EV power per minute if each session's net energy were charged at once on arrival."""
    ev = np.nan_to_num(ev_w, nan=0.0)
    out = np.zeros_like(ev)
    for start, end in sessions(soc_pct):
        need_wmin = max(0.0, float(ev[start:end].sum()))          # W x minutes
        full, rest = divmod(need_wmin, max_charge_w)
        full = min(int(full), end - start)
        out[start:start + full] = max_charge_w
        if start + full < end:
            out[start + full] = rest
    return out


def exchange_cost(grid_w: np.ndarray, import_price: np.ndarray, export_price: np.ndarray) -> float:
    """Cost of a per-minute grid exchange (currency units): import paid, export earned."""
    g = np.nan_to_num(grid_w, nan=0.0)
    imp = np.clip(g, 0.0, None) / 60_000.0       # kWh per minute
    exp = np.clip(-g, 0.0, None) / 60_000.0
    return float(np.nansum(imp * import_price) - np.nansum(exp * export_price))


def compare(load_w: np.ndarray, pv_w: np.ndarray, ev_w: np.ndarray, soc_pct: np.ndarray,
            import_price: np.ndarray, export_price: np.ndarray, max_charge_w: float) -> dict[str, float]:
    """Actual cost, baseline cost and savings over the minutes given."""
    load = np.nan_to_num(load_w, nan=0.0)
    pv = np.nan_to_num(pv_w, nan=0.0)
    actual_ev = np.nan_to_num(ev_w, nan=0.0)
    base_ev = baseline_ev_w(ev_w, soc_pct, max_charge_w)
    actual = exchange_cost(load + actual_ev - pv, import_price, export_price)
    base = exchange_cost(load + base_ev - pv, import_price, export_price)
    return {"cost": actual, "baseline_cost": base, "savings": base - actual,
            "ev_energy_kwh": float(actual_ev.sum() / 60_000.0)}
