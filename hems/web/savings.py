"""Savings the owner can see, and the charging-session log.

GET /api/v1/savings?period=day|month|year&date=YYYY-MM-DD|YYYY-MM|YYYY
    solar share of the car's charging, self-sufficiency, money saved against charging on
    arrival, money earned from the aggregator, and the charging sessions of the period
GET /api/v1/sessions.csv?from=YYYY-MM-DD&to=YYYY-MM-DD     the sessions in [from, to) as CSV
GET /api/v1/history/today                                  today's energy and cost totals only

Computed from the store's per-minute history (a worker thread; finished periods are cached).
A year is the sum of its months. Definitions (energies per minute, hems signs):
  car solar     min(car charging, solar - house use) when positive: solar the car took
  solar share   car solar / car charging
  self-sufficiency  1 - bought / (house use + car charging)
  saved         cost if each plugged session had charged at full power on arrival - actual cost
"""
from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from aiohttp import web

from hems.web import history, keys
from hems.web.auth import access
from hems.web.baseline import compare, sessions as plugged_runs
from hems.web.errors import ApiError
from hems.web.serialize import num
from hems.web.sitetime import tz_name

ADDITIVE = ("pv_kwh", "load_kwh", "ev_charge_kwh", "ev_solar_kwh", "import_kwh", "export_kwh",
            "cost", "baseline_cost", "saved", "earned", "delivered_kwh", "days_with_data")
MIN_KWH = 0.05
GAP_MIN = 10            # plugged runs closer than this are one session (a missed reading is no unplug)
MAX_CSV_DAYS = 366
CACHE: web.AppKey[dict] = web.AppKey("hems_savings_cache", dict)


def energy_split(dense: dict[str, np.ndarray]) -> dict[str, float]:
    """Additive energy totals (kWh) of a per-minute grid (NaN = not measured)."""
    z = {k: np.nan_to_num(dense[k], nan=0.0) for k in ("grid_w", "pv_w", "ev_w", "load_w")}
    charge = np.clip(z["ev_w"], 0.0, None)
    ev_solar = np.minimum(charge, np.clip(z["pv_w"] - z["load_w"], 0.0, None))
    per_kwh = 60_000.0
    return {"pv_kwh": float(np.clip(z["pv_w"], 0, None).sum() / per_kwh), "load_kwh": float(z["load_w"].sum() / per_kwh),
            "ev_charge_kwh": float(charge.sum() / per_kwh), "ev_solar_kwh": float(ev_solar.sum() / per_kwh),
            "import_kwh": float(np.clip(z["grid_w"], 0, None).sum() / per_kwh),
            "export_kwh": float(np.clip(-z["grid_w"], 0, None).sum() / per_kwh)}


def ratios(sums: dict[str, Any]) -> dict[str, float | None]:
    """Solar share of the car's charging and self-sufficiency (%), None when too little energy."""
    charged, used = sums["ev_charge_kwh"], sums["load_kwh"] + sums["ev_charge_kwh"]
    share = 100.0 * sums["ev_solar_kwh"] / charged if charged >= MIN_KWH else None
    selfs = 100.0 * max(0.0, 1.0 - sums["import_kwh"] / used) if used >= MIN_KWH else None
    return {"solar_share_pct": num(share, 1), "self_sufficiency_pct": num(selfs, 1)}


def charging_sessions(start: datetime, dense: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Plugged runs (the car reported its SoC) in which the car charged, with their energy and solar part."""
    out = []
    ev = np.nan_to_num(dense["ev_w"], nan=0.0)
    surplus = np.clip(np.nan_to_num(dense["pv_w"], nan=0.0) - np.nan_to_num(dense["load_w"], nan=0.0), 0.0, None)
    soc = dense["soc_pct"]
    runs: list[list[int]] = []
    for a, b in plugged_runs(soc):
        if runs and a - runs[-1][1] <= GAP_MIN:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    for a, b in runs:
        charge = np.clip(ev[a:b], 0.0, None)
        charged = float(charge.sum() / 60_000.0)
        if charged < MIN_KWH:
            continue
        solar = float(np.minimum(charge, surplus[a:b]).sum() / 60_000.0)
        out.append({"start": _iso(start + timedelta(minutes=a)), "end": _iso(start + timedelta(minutes=b)),
                    "charged_kwh": num(charged, 2), "solar_kwh": num(solar, 2), "solar_pct": num(100.0 * solar / charged, 0),
                    "discharged_kwh": num(float(np.clip(-ev[a:b], 0.0, None).sum() / 60_000.0), 2),
                    "soc_start_pct": num(soc[a], 0), "soc_end_pct": num(_last_known(soc[a:b]), 0)})
    return out


def _last_known(values: np.ndarray) -> float:
    known = values[np.isfinite(values)]
    return float(known[-1]) if len(known) else float("nan")


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def days_view(app: web.Application, first: date, after: date) -> dict[str, Any]:
    """Additive totals and the sessions of the local days [first, after)."""
    store, tz, config = app[keys.STORE], app[keys.TZ], app[keys.CONFIG]
    start = datetime.combine(first, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(after, time(0), tz).astimezone(timezone.utc)
    sums: dict[str, Any] = {k: 0.0 for k in ADDITIVE}
    sums.update(baseline_cost=None, saved=None, earned=None, notes=[], sessions=[])
    if store is None or first >= after:
        return sums
    buckets, dense = history.read_days(store, tz, first, after, start)
    sums["days_with_data"] = sum(1 for b in buckets if b.get("minutes", 1))
    sums.update(energy_split(dense))
    sums["cost"] = float(sum(b["cost"] for b in buckets))
    measured = np.isfinite(dense["grid_w"]) | np.isfinite(dense["ev_w"])
    prices = history.minute_prices(getattr(store, "prices", None), start, len(dense["grid_w"]), measured,
                                   app[history.PRICES])
    if prices is not None:
        max_w = float(getattr(getattr(config, "ev", None), "max_charge_w", 11_000.0))
        result = compare(dense["load_w"], dense["pv_w"], dense["ev_w"], dense["soc_pct"], *prices, max_w)
        sums.update(cost=result["cost"], baseline_cost=result["baseline_cost"], saved=result["savings"])
    elif sums["days_with_data"]:
        sums["notes"].append("no_prices")
    payment = (app[keys.DB].get_setting("settings.aggregator", {}) or {}).get("payment_per_kwh")
    got = history.earnings(store, start, end, payment)
    if got is not None:
        sums["delivered_kwh"] = got["delivered_kwh"]
        sums["earned"] = got["total"]
        if got["total"] is None:
            sums["notes"].append("no_payment")
    elif sums["days_with_data"]:
        sums["notes"].append("no_settlements")
    sums["sessions"] = charging_sessions(start, dense)
    return sums


def add_up(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """A year from its months: energies and money add; None (unknown) stays None only if all are."""
    out: dict[str, Any] = {"notes": [], "sessions": []}
    for k in ADDITIVE:
        vals = [p[k] for p in parts if p.get(k) is not None]
        out[k] = sum(vals) if vals else None
    for p in parts:
        out["sessions"].extend(p["sessions"])
        out["notes"].extend(n for n in p["notes"] if n not in out["notes"])
    return out


def month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def cached(app: web.Application, first: date, after: date) -> dict[str, Any]:
    """days_view of a finished period from the cache (an hour after its end, the store has it all)."""
    key = (first.isoformat(), after.isoformat())
    cache = app[CACHE]
    if key in cache:
        return cache[key]
    view = days_view(app, first, after)
    settled = datetime.combine(after, time(0), app[keys.TZ]) + history.SETTLED_AFTER
    if settled <= app[keys.CLOCK].now():
        if len(cache) >= 64:
            cache.pop(next(iter(cache)))
        cache[key] = view
    return view


def parse(period: str, text: str | None, today: date) -> tuple[date, date]:
    if period == "year":
        try:
            year = int(text) if text else today.year
        except ValueError:
            raise ApiError(400, f"date must be YYYY for period=year, got {text!r}", "date") from None
        if not 2000 <= year <= 2100:
            raise ApiError(400, f"year must be between 2000 and 2100, got {year}", "date")
        return date(year, 1, 1), date(year + 1, 1, 1)
    return history.parse_period(period, text, today)


def savings_view(app: web.Application, period: str, text: str | None) -> dict[str, Any]:
    tz = app[keys.TZ]
    today = app[keys.CLOCK].now().astimezone(tz).date()
    first, after = parse(period, text, today)
    months: list[dict[str, Any]] = []
    if period == "year":
        for m in range(1, 13):
            a, b = month_range(first.year, m)
            part = cached(app, a, b) if a <= today else days_view(app, a, a)
            months.append({"month": a.strftime("%Y-%m"), **part})
        sums = add_up(months)
    else:
        sums = cached(app, first, after)
    currency = getattr(getattr(app[keys.CONFIG], "tariff", None), "currency", "EUR")
    view = {"period": period, "from": first.isoformat(), "to": after.isoformat(), "timezone": tz_name(tz),
            "currency": currency, **{k: num(v, 2) if isinstance(v, float) else v for k, v in sums.items()},
            **ratios({k: sums[k] or 0.0 for k in ("ev_charge_kwh", "ev_solar_kwh", "load_kwh", "import_kwh")})}
    view["months"] = [{"month": m["month"], "saved": num(m["saved"], 2), "earned": num(m["earned"], 2),
                       "days_with_data": m["days_with_data"]} for m in months]
    return view


@access("read")
async def get_savings(request: web.Request) -> web.Response:
    q = history.period_query(request)
    period = q.get("period", "month")
    if period not in ("day", "month", "year"):
        raise ApiError(400, f"period must be day, month or year, got {period!r}", "period")
    return web.json_response(await asyncio.to_thread(savings_view, request.app, period, q.get("date")))


def _day(q: Any, name: str) -> date:
    text = q.get(name)
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise ApiError(400, f"{name} must be a date YYYY-MM-DD, got {text!r}", name) from None


CSV_COLUMNS = ("start", "end", "charged_kwh", "solar_kwh", "solar_pct", "discharged_kwh", "soc_start_pct", "soc_end_pct")


def sessions_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


@access("read")
async def get_sessions_csv(request: web.Request) -> web.Response:
    first, after = _day(request.query, "from"), _day(request.query, "to")
    if not first < after or (after - first).days > MAX_CSV_DAYS:
        raise ApiError(400, f"to must be after from, at most {MAX_CSV_DAYS} days later", "to")
    view = await asyncio.to_thread(days_view, request.app, first, after)
    return web.Response(text=sessions_csv(view["sessions"]), content_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="hems-sessions-{first}-{after}.csv"'})


@access("read")
async def get_today(request: web.Request) -> web.Response:
    """Today's four totals for the Overview: one small query, no curves."""
    app = request.app
    store, tz = app[keys.STORE], app[keys.TZ]
    today = app[keys.CLOCK].now().astimezone(tz).date()
    currency = getattr(getattr(app[keys.CONFIG], "tariff", None), "currency", "EUR")
    totals = None
    if store is not None:
        rows = await asyncio.to_thread(store.energy_by_day, tz, today, today + timedelta(days=1))
        totals = {k: num(sum(r[k] for r in rows), 2) for k in (*history.ENERGY_KEYS, "cost")}
    return web.json_response({"date": today.isoformat(), "currency": currency, "totals": totals})


def add_routes(app: web.Application) -> None:
    app[CACHE] = {}
    app.router.add_get("/api/v1/savings", get_savings)
    app.router.add_get("/api/v1/sessions.csv", get_sessions_csv)
    app.router.add_get("/api/v1/history/today", get_today)
