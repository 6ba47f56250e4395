"""The config of live data sources: [tariff] source keys and the tariff formula, PV planes
([[site.pv_planes]]) and the solar forecast ([solar]). Same rules as every section: each
problem names its key and what is expected; keys that do not apply are errors."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hems.config.checks import (
    Table, _Check, choice, clock_time, day_list, file_path, number, show, string, week_coverage,
)
from hems.config.model import WEEKDAYS, PvPlane, SolarConfig, TouPeriod

PRICE_SOURCES = ("csv", "entsoe", "energycharts", "awattar", "octopus", "tibber")
SOLAR_SOURCES = ("clearsky", "openmeteo", "forecastsolar", "solcast")
RETAIL_SOURCES = ("octopus", "tibber")          # their price already includes taxes and fees
# which source keys each price source takes (required ones first)
SOURCE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "csv": (("prices_csv",), ()),
    "entsoe": (("zone", "token_file"), ("base_url", "timeout_s")),
    "energycharts": (("zone",), ("base_url", "timeout_s")),
    "awattar": (("zone",), ("base_url", "timeout_s")),
    "octopus": (("product", "region"), ("base_url", "timeout_s")),
    "tibber": (("token_file",), ("home_id", "base_url", "timeout_s")),
}
ALL_SOURCE_KEYS = ("prices_csv", "zone", "token_file", "base_url", "timeout_s", "product", "region", "home_id")
FORMULA_KEYS = ("import_markup_per_kwh", "energy_tax_per_kwh", "grid_fee_per_kwh", "grid_fee_windows", "vat_factor")
OCTOPUS_REGIONS = tuple("ABCDEFGHJKLMNP")
PRICE = number(-10, 10, "a price per kWh (-10 to 10)")


def _regex(pattern: str, expected: str) -> _Check:
    def fn(v: Any) -> str:
        if not isinstance(v, str) or not re.fullmatch(pattern, v):
            raise ValueError
        return v
    return _Check(expected, fn)


def url() -> _Check:
    return _regex(r"https?://[^\s?#]+", 'an http(s) URL without a query, e.g. "http://127.0.0.1:8081/api"')


ZONE_CHECKS = {
    "entsoe": _regex(r"10Y[0-9A-Z-]{12}[0-9A-Z]", 'an EIC bidding zone code, e.g. "10YNL----------L" (NL) or '
                     '"10Y1001A1001A82H" (DE-LU)'),
    "energycharts": _regex(r"[A-Z]{2}[0-9A-Z-]{0,18}", 'an Energy-Charts bidding zone, e.g. "DE-LU", "NL", "AT", "BE", "DK1"'),
    "awattar": choice("de", "at", what="an aWATTar market"),
}


def source_keys(t: Table, source: str | None, currency: str | None, base: Path) -> dict[str, Any]:
    """The source keys of a dynamic tariff (TariffConfig keyword arguments)."""
    if source not in SOURCE_KEYS:
        t.used.update(k for k in ALL_SOURCE_KEYS if k in t.data)
        return {}
    required, optional = SOURCE_KEYS[source]
    for k in ALL_SOURCE_KEYS:
        if k in t.data and k not in required + optional:
            t.used.add(k)
            t.error(k, f'does not apply to source = {show(source)}')
    out: dict[str, Any] = {}
    checks = {
        "prices_csv": file_path(base, "a CSV file of day-ahead prices"),
        "zone": ZONE_CHECKS.get(source, string("a zone")),
        "token_file": file_path(base, "a file holding the provider's token"),
        "base_url": url(),
        "timeout_s": number(1, 120, "a timeout in s (1-120)"),
        "product": _regex(r"[A-Z0-9-]{3,64}", 'an Octopus product code, e.g. "AGILE-24-10-01"'),
        "region": choice(*OCTOPUS_REGIONS, what="a grid supply point group letter"),
        "home_id": string("a Tibber home id"),
    }
    for k in required:
        out[k] = t.get(k, checks[k])
    for k in optional:
        v = t.get(k, checks[k], None)
        if v is not None:
            out[k] = v
    if source == "octopus" and currency not in (None, "GBP"):
        t.error("currency", f'{show(currency)} is not the currency of Octopus prices (use "GBP")')
    return out


def formula_keys(t: Table, source: str | None) -> dict[str, Any]:
    """The tariff formula around spot (TariffConfig keyword arguments)."""
    if source in RETAIL_SOURCES:
        for k in FORMULA_KEYS:
            if k in t.data:
                t.used.add(k)
                t.error(k, f"does not apply to source = {show(source)}: its price already includes taxes and fees")
        return {}
    out = {
        "import_markup_per_kwh": t.get("import_markup_per_kwh", PRICE, 0.0),
        "energy_tax_per_kwh": t.get("energy_tax_per_kwh", PRICE, 0.0),
        "grid_fee_per_kwh": t.get("grid_fee_per_kwh", PRICE, 0.0),
        "vat_factor": t.get("vat_factor", number(1, 2, "a VAT factor from 1 to 2, e.g. 1.21 for 21 %"), 1.0),
    }
    if "grid_fee_windows" in t.data:
        out["grid_fee_windows"] = _fee_windows(t)
    return out


def export_keys(t: Table) -> dict[str, Any]:
    export = t.get("export", choice("spot", "fixed", "spot_minus_fee"), "spot")
    out: dict[str, Any] = {"export": export}
    for key, needed_by in (("export_price_per_kwh", "fixed"), ("export_fee_per_kwh", "spot_minus_fee")):
        if export == needed_by:
            out[key] = t.get(key, PRICE)
        elif key in t.data:
            t.used.add(key)
            t.error(key, f"applies only with export = {show(needed_by)}")
    return out


def _fee_windows(t: Table) -> tuple[TouPeriod, ...]:
    windows = []
    for sub in t.array_of_tables("grid_fee_windows"):
        windows.append(TouPeriod(days=sub.get("days", day_list(WEEKDAYS)), start=sub.get("start", clock_time()),
                                 end=sub.get("end", clock_time(allow_24=True)),
                                 price_per_kwh=sub.get("fee_per_kwh", PRICE)))
        sub.finish()
    if windows and all(None not in (w.days, w.start, w.end) for w in windows):
        for problem in week_coverage([(w.days, w.start, w.end) for w in windows], WEEKDAYS):
            if "more than one" in problem:
                t.error("grid_fee_windows", problem)
    return tuple(windows)


def pv_planes(t: Table) -> tuple[PvPlane, ...]:
    """[[site.pv_planes]]: peak_w, tilt_deg, azimuth_deg per roof plane."""
    if "pv_planes" not in t.data:
        return ()
    planes = []
    for sub in t.array_of_tables("pv_planes"):
        planes.append(PvPlane(peak_w=sub.get("peak_w", number(0, 1e6, "a peak power in W (0-1000000)")),
                              tilt_deg=sub.get("tilt_deg", number(0, 90, "a tilt in degrees (0-90)")),
                              azimuth_deg=sub.get("azimuth_deg", number(0, 360, "an azimuth in degrees (0-360, 180 = south)"))))
        sub.finish()
    for k in ("pv_peak_w", "pv_tilt_deg", "pv_azimuth_deg"):
        if k in t.data:
            t.error(k, "conflicts with [[site.pv_planes]]: give each plane's peak_w, tilt_deg and azimuth_deg there")
    return tuple(planes)


def solar(t: Table | None, base: Path) -> SolarConfig:
    """[solar]: where the PV forecast comes from."""
    if t is None:
        return SolarConfig()
    src = t.get("source", choice(*SOLAR_SOURCES, what="a solar forecast source"), "clearsky")
    token_need = src == "solcast"
    s = SolarConfig(
        source=src or "clearsky",
        base_url=t.get("base_url", url(), None),
        token_file=t.get("token_file", file_path(base, "a file holding the provider's API key"), None),
        site_id=t.get("site_id", _regex(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}",
                                        'a Solcast rooftop site resource id, e.g. "abcd-1234-ef56-7890"'), None),
        timeout_s=t.get("timeout_s", number(1, 120, "a timeout in s (1-120)"), 20.0),
    )
    if token_need and "token_file" not in t.data:
        t.error("token_file", "missing: Solcast needs the file holding its API key")
    if src == "solcast" and "site_id" not in t.data:
        t.error("site_id", "missing: Solcast needs the rooftop site's resource id")
    if src != "solcast" and "site_id" in t.data:
        t.error("site_id", 'applies only with source = "solcast"')
    if src in ("clearsky", "openmeteo") and "token_file" in t.data:
        t.error("token_file", f"does not apply to source = {show(src)} (no key needed)")
    t.finish()
    return s
