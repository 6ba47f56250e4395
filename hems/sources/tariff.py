"""The real tariff around the spot price: what the home pays per kWh and is paid for export.

    import = (spot + markup + energy_tax + grid_fee(local time)) x vat_factor
    export = spot | fixed feed-in | spot - export_fee

grid_fee(t) is grid_fee_per_kwh, or the fee of the window t falls in (local weekday and time,
e.g. the German Section 14a "Modul 3" low/standard/high zones or a Dutch/Belgian off-peak).
A retail source (Tibber, Octopus) already gives the import price with taxes: it is used as is.
Pure functions of numpy arrays; `describe` gives the formula as shown to the owner.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from hems.forecast.timeutil import local_parts

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def grid_fee_per_kwh(t_s: np.ndarray, tariff: Any, tz: Any) -> np.ndarray:
    """The grid fee per kWh at each instant: the base fee, or the fee of the window it falls in."""
    t = np.asarray(t_s, dtype=float)
    out = np.full(t.shape, float(tariff.grid_fee_per_kwh))
    if not tariff.grid_fee_windows or t.size == 0:
        return out
    _, weekday, sod = local_parts(t, tz)
    for w in tariff.grid_fee_windows:
        a, b = w.start.hour * 3600 + w.start.minute * 60, w.end.hour * 3600 + w.end.minute * 60
        days = np.asarray(w.days)
        if b > a:
            hit = np.isin(weekday, days) & (sod >= a) & (sod < b)
        else:      # wraps past midnight
            hit = (np.isin(weekday, days) & (sod >= a)) | (np.isin((weekday - 1) % 7, days) & (sod < b))
        out[hit] = w.price_per_kwh
    return out


def import_export_per_kwh(t_s: np.ndarray, spot_per_kwh: np.ndarray, tariff: Any, tz: Any,
                          retail_import_per_kwh: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(import, export) per kWh at interval starts t_s from the spot price (per kWh) there.
    Where retail_import_per_kwh is finite it is the import price (taxes already in)."""
    spot = np.asarray(spot_per_kwh, dtype=float)
    fee = grid_fee_per_kwh(t_s, tariff, tz)
    imp = (spot + tariff.import_markup_per_kwh + tariff.energy_tax_per_kwh + fee) * tariff.vat_factor
    if retail_import_per_kwh is not None:
        r = np.asarray(retail_import_per_kwh, dtype=float)
        imp = np.where(np.isfinite(r), r, imp)
    if tariff.export == "fixed":
        exp = np.full(spot.shape, float(tariff.export_price_per_kwh or 0.0))
    elif tariff.export == "spot_minus_fee":
        exp = spot - tariff.export_fee_per_kwh
    else:
        exp = spot.copy()
    return imp, exp


def _days(days: tuple[int, ...]) -> str:
    if tuple(days) == tuple(range(7)):
        return "every day"
    if tuple(days) == tuple(range(5)):
        return "Mon-Fri"
    if tuple(days) == (5, 6):
        return "Sat-Sun"
    return ",".join(DAYS[d] for d in days)


def describe(tariff: Any) -> str:
    """The formula in words, with this tariff's numbers (currency per kWh)."""
    cur = tariff.currency
    if getattr(tariff, "source", "csv") in ("tibber", "octopus"):
        imp = f"import = the {tariff.source} retail price (taxes included)"
    else:
        parts = ["spot"]
        for value, label in ((tariff.import_markup_per_kwh, "markup"), (tariff.energy_tax_per_kwh, "energy tax")):
            if value:
                parts.append(f"{value:g} {label}")
        fee = f"grid fee {tariff.grid_fee_per_kwh:g}"
        if tariff.grid_fee_windows:
            fee += " (" + "; ".join(f"{w.price_per_kwh:g} {_days(w.days)} {w.start:%H:%M}-{w.end:%H:%M}"
                                    for w in tariff.grid_fee_windows) + ")"
        if tariff.grid_fee_per_kwh or tariff.grid_fee_windows:
            parts.append(fee)
        imp = "import = " + (f"({' + '.join(parts)})" if len(parts) > 1 else "spot")
        if tariff.vat_factor != 1.0:
            imp += f" x {tariff.vat_factor:g} VAT"
    if tariff.export == "fixed":
        exp = f"export = {tariff.export_price_per_kwh or 0:g} fixed"
    elif tariff.export == "spot_minus_fee":
        exp = f"export = spot - {tariff.export_fee_per_kwh:g}"
    else:
        exp = "export = spot"
    return f"{imp}; {exp} ({cur}/kWh)"
