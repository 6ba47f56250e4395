"""History API: energy flows per day or month, cost against charge-on-arrival, earnings.

GET /api/v1/history?period=day&date=YYYY-MM-DD  one local day: 5-minute power curves + totals
GET /api/v1/history?period=month&date=YYYY-MM   one local month: per-day energy bars + totals
Reads the store (hems.store.Store); prices for the baseline come from the store's price
function (import, export per kWh at a UTC minute) when hems gave it one.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from aiohttp import web

from hems.web import keys
from hems.web.auth import access
from hems.web.baseline import compare
from hems.web.errors import ApiError
from hems.web.serialize import num
from hems.web.sitetime import tz_name

log = logging.getLogger(__name__)

ENERGY_KEYS = ("import_kwh", "export_kwh", "pv_kwh", "ev_charge_kwh", "ev_discharge_kwh", "load_kwh")
CURVE_STEP_MIN = 5
CACHE_MAX = 24
SETTLED_AFTER = timedelta(hours=1)
CACHE: web.AppKey[dict] = web.AppKey("hems_history_cache", dict)   # finished periods -> view
PRICE_STEP_MIN = 15
PRICE_CACHE_MAX = 40_000          # 15-minute slots (about a year)
PRICES: web.AppKey[dict] = web.AppKey("hems_history_prices", dict)   # slot start (unix s) -> prices


def parse_period(period: str, text: str | None, today: date) -> tuple[date, date]:
    """[first day, day after last) of the requested local day or month."""
    if period == "day":
        try:
            day = date.fromisoformat(text) if text else today
        except ValueError:
            raise ApiError(400, f"date must be YYYY-MM-DD for period=day, got {text!r}", "date") from None
        return day, day + timedelta(days=1)
    if period == "month":
        try:
            first = date.fromisoformat((text or today.strftime("%Y-%m")) + "-01")
        except ValueError:
            raise ApiError(400, f"date must be YYYY-MM for period=month, got {text!r}", "date") from None
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, nxt
    raise ApiError(400, f"period must be day or month, got {period!r}", "period")


def minute_prices(price_fn: Any, start: datetime, n: int, measured: np.ndarray | None = None,
                  cache: dict[int, tuple[float, float]] | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Import and export price per minute from the store's price function (None if it has none).
    Only 15-minute slots with a measurement (`measured`, per minute) are priced: the others cost
    nothing either way. `cache` (slot start in unix s -> prices) spares asking twice for a slot."""
    if price_fn is None:
        return None
    imp, exp = np.full(n, np.nan), np.full(n, np.nan)
    for k in range(0, n, PRICE_STEP_MIN):
        if measured is not None and not measured[k:k + PRICE_STEP_MIN].any():
            continue
        at = start + timedelta(minutes=k)
        key = int(at.timestamp())
        got = cache.get(key) if cache is not None else None
        if got is None:
            try:
                got = price_fn(at)
            except Exception as exc:   # a price source that fails gives no baseline, not a 500
                log.warning("price lookup failed at %s: %s", at, exc)
                return None
            if got is not None and cache is not None:
                if len(cache) >= PRICE_CACHE_MAX:
                    cache.pop(next(iter(cache)))
                cache[key] = got
        if got is not None:
            imp[k:k + PRICE_STEP_MIN], exp[k:k + PRICE_STEP_MIN] = got
    return imp, exp


def dense_minutes(data: dict[str, np.ndarray], start: datetime, n: int) -> dict[str, np.ndarray]:
    """Scatter the store's rows onto a full minute grid from `start` (NaN where nothing was stored)."""
    idx = ((data["time"].astype("int64") - int(start.timestamp())) // 60).astype(int)
    ok = (idx >= 0) & (idx < n)
    out = {}
    for key in ("grid_w", "pv_w", "ev_w", "load_w", "soc_pct"):
        arr = np.full(n, np.nan)
        if key in data:
            arr[idx[ok]] = data[key][ok]
        out[key] = arr
    return out


def curves(dense: dict[str, np.ndarray], start: datetime) -> dict[str, Any]:
    """5-minute means for the day chart."""
    n = len(dense["grid_w"]) // CURVE_STEP_MIN
    out: dict[str, Any] = {"time": [(start + timedelta(minutes=k * CURVE_STEP_MIN)).isoformat().replace("+00:00", "Z")
                                    for k in range(n)]}
    for key, arr in dense.items():
        blocks = arr[: n * CURVE_STEP_MIN].reshape(n, CURVE_STEP_MIN)
        counts = np.isfinite(blocks).sum(axis=1)
        sums = np.nansum(blocks, axis=1)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out[key] = [num(v) for v in means]
    return out


def settlements(store: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Settlement messages of events that started in [start, end), from the aggregator link's
    outbox (store table agg_outbox: signed envelopes whose `msg` is the settlement JSON)."""
    if not callable(getattr(store, "query", None)):
        return []
    try:
        rows = store.query("SELECT payload FROM agg_outbox ORDER BY created_at")
    except Exception as exc:            # a database without the aggregator tables
        log.debug("no settlements: %s", exc)
        return []
    out = []
    for (payload,) in rows:
        try:
            msg = json.loads(json.loads(payload)["msg"])
            at = datetime.fromisoformat(msg["start"].replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable settlement in the outbox: %s", exc)
            continue
        if start <= at < end:
            out.append(msg)
    return out


def earnings(store: Any, start: datetime, end: datetime, payment_per_kwh: float | None) -> dict[str, Any] | None:
    """Flexibility delivered to the aggregator in the period and, when the owner entered the
    contract's payment per kWh (Settings), the money it earned."""
    msgs = settlements(store, start, end)
    if not msgs:
        return None
    delivered_kwh = sum(abs(float(m["total"].get("delivered_kwh", 0.0))) for m in msgs)
    total = delivered_kwh * payment_per_kwh if payment_per_kwh is not None else None
    return {"events": len(msgs), "delivered_kwh": num(delivered_kwh, 2), "total": num(total, 2)}


def read_days(store: Any, tz: Any, first: date, after: date, start: datetime
              ) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Energy per day and the per-minute grid, read one day at a time so the store's lock is
    never held long (the agent writes through the same lock)."""
    buckets: list[dict[str, Any]] = []
    parts: list[dict[str, np.ndarray]] = []
    day = first
    while day < after:
        nxt = day + timedelta(days=1)
        t0 = datetime.combine(day, time(0), tz).astimezone(timezone.utc)
        t1 = datetime.combine(nxt, time(0), tz).astimezone(timezone.utc)
        buckets.extend(store.energy_by_day(tz, day, nxt))
        parts.append(dense_minutes(store.measurements(t0, t1), t0, int((t1 - t0).total_seconds() // 60)))
        day = nxt
    return buckets, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def history_view(app: web.Application, period: str, text: str | None) -> dict[str, Any]:
    store, tz, config = app[keys.STORE], app[keys.TZ], app[keys.CONFIG]
    now = app[keys.CLOCK].now()
    first, after = parse_period(period, text, now.astimezone(tz).date())
    start = datetime.combine(first, time(0), tz).astimezone(timezone.utc)
    end = datetime.combine(after, time(0), tz).astimezone(timezone.utc)
    currency = getattr(getattr(config, "tariff", None), "currency", "EUR")
    view: dict[str, Any] = {"period": period, "from": first.isoformat(), "to": after.isoformat(),
                            "timezone": tz_name(tz), "currency": currency, "notes": []}
    if store is None:
        view.update(totals=None, buckets=[], curves=None, earnings=None)
        view["notes"].append("no store: hems keeps no history in this mode")
        return view
    buckets, dense = read_days(store, tz, first, after, start)
    totals: dict[str, Any] = {k: num(sum(b[k] for b in buckets), 2) for k in ENERGY_KEYS}
    n = len(dense["grid_w"])
    prices = minute_prices(getattr(store, "prices", None), start, n, _measured(dense), app[PRICES])
    max_charge_w = float(getattr(getattr(config, "ev", None), "max_charge_w", 11_000.0))
    if prices is not None:
        result = compare(dense["load_w"], dense["pv_w"], dense["ev_w"], dense["soc_pct"], *prices, max_charge_w)
        totals.update({k: num(v, 2) for k, v in result.items() if k != "ev_energy_kwh"})
    else:
        totals.update(cost=num(sum(b["cost"] for b in buckets), 2), baseline_cost=None, savings=None)
        view["notes"].append("no price history: the charge-on-arrival comparison needs the tariff's prices")
    view["totals"] = totals
    view["buckets"] = [{"day": b["day"], **{k: num(b[k], 2) for k in ENERGY_KEYS}, "cost": num(b["cost"], 2)}
                       for b in buckets]
    view["curves"] = curves(dense, start) if period == "day" else None
    payment = (app[keys.DB].get_setting("settings.aggregator", {}) or {}).get("payment_per_kwh")
    view["earnings"] = earnings(store, start, end, payment)
    if view["earnings"] is None:
        view["notes"].append("no aggregator settlements recorded")
    return view


def period_query(request: web.Request) -> Any:
    """The query of a per-period view: `period` and `date` only (400 naming anything else)."""
    q = request.query
    unknown = sorted(set(q) - {"period", "date"})
    if unknown:
        raise ApiError(400, f"unknown query parameter {unknown[0]!r}; use period and date", unknown[0])
    return q


@access("read")
async def get_history(request: web.Request) -> web.Response:
    """Computed in a worker thread (a month is ~45 000 minutes); finished periods are cached."""
    q = period_query(request)
    app = request.app
    period, text = q.get("period", "day"), q.get("date")
    first, after = parse_period(period, text, app[keys.CLOCK].now().astimezone(app[keys.TZ]).date())
    cache: dict = app[CACHE]
    key = (period, first.isoformat())
    view = cache.get(key)
    if view is None:
        view = await asyncio.to_thread(history_view, app, period, text)
        settled = datetime.combine(after, time(0), app[keys.TZ]) + SETTLED_AFTER   # the store has flushed it
        if settled <= app[keys.CLOCK].now() and view["totals"] is not None:
            if len(cache) >= CACHE_MAX:
                cache.pop(next(iter(cache)))
            cache[key] = view
    return web.json_response(view)


def _measured(dense: dict[str, np.ndarray]) -> np.ndarray:
    return np.isfinite(dense["grid_w"]) | np.isfinite(dense["ev_w"])


def add_routes(app: web.Application) -> None:
    app[CACHE] = {}
    app[PRICES] = {}
    app.router.add_get("/api/v1/history", get_history)
