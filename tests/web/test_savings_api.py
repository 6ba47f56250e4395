"""Savings, the charging-session log (CSV) and today's totals on a real SQLite store, gzip on the wire."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import numpy as np
import pytest

from hems.domain import ChargerReading, ChargerState, MeterReading, PvReading, SiteState
from hems.store import Store
from hems.web.savings import charging_sessions, energy_split, ratios
from tests.web.conftest import T0


def _price(at):
    return (0.40 if at.hour < 13 else 0.10), 0.05


@pytest.fixture
def store(tmp_path, clock):
    """10:00-14:00 UTC: house 600 W; solar 3 kW until 12:00; the car (plugged) charges 2 kW from
    11:00 to 12:00 (all from the solar surplus) and 6 kW from 13:00 to 14:00 (all from the grid)."""
    s = Store(tmp_path / "hems.sqlite", flush_interval_s=3600, clock=clock, prices=_price)
    for m in range(240):
        at = T0 + timedelta(minutes=m)
        pv = 3000.0 if m < 120 else 0.0
        ev = 2000.0 if 60 <= m < 120 else 6000.0 if m >= 180 else 0.0
        s.add_measurement(SiteState(
            at=at, meter=MeterReading(at=at, grid_power_w=600.0 + ev - pv), pv=PvReading(at=at, pv_power_w=pv),
            charger=ChargerReading(at=at, ev_power_w=ev, state=ChargerState.CONNECTED, soc_pct=40.0 + m / 10)))
    s.flush(include_current_minute=True)
    yield s
    s.close()


async def test_day_savings(owner):
    resp = await owner.get("/api/v1/savings?period=day&date=2026-06-15")
    assert resp.status == 200, await resp.text()
    v = await resp.json()
    # the car took 2 kWh of solar and 6 kWh from the grid: a quarter from solar
    assert v["solar_share_pct"] == pytest.approx(25.0, abs=0.5)
    # used: house 2.4 kWh + car 8 kWh; bought: 0.6*1 h (12-13) + 6.6 (13-14) = 7.2 kWh
    assert v["self_sufficiency_pct"] == pytest.approx(100 * (1 - 7.2 / 10.4), abs=0.5)
    assert v["saved"] is not None and v["baseline_cost"] > v["cost"]
    assert v["days_with_data"] == 1
    [session] = v["sessions"]
    assert session["charged_kwh"] == pytest.approx(8.0, abs=0.05)
    assert session["solar_kwh"] == pytest.approx(2.0, abs=0.05)
    assert session["soc_start_pct"] == 40 and session["soc_end_pct"] == 64


async def test_year_is_the_sum_of_its_months(owner):
    year = await (await owner.get("/api/v1/savings?period=year&date=2026")).json()
    month = await (await owner.get("/api/v1/savings?period=month&date=2026-06")).json()
    assert year["from"] == "2026-01-01" and len(year["months"]) == 12
    assert year["saved"] == pytest.approx(month["saved"], abs=0.01)
    assert [m["month"] for m in year["months"] if m["days_with_data"]] == ["2026-06"]
    assert year["solar_share_pct"] == month["solar_share_pct"]


async def test_a_day_without_data_says_so(owner):
    v = await (await owner.get("/api/v1/savings?period=day&date=2026-06-10")).json()
    assert v["days_with_data"] == 0 and v["sessions"] == [] and v["solar_share_pct"] is None


async def test_sessions_csv(owner):
    resp = await owner.get("/api/v1/sessions.csv?from=2026-06-01&to=2026-07-01")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert len(rows) == 1 and rows[0]["start"] == "2026-06-15T10:00:00Z" and float(rows[0]["charged_kwh"]) == 8.0


@pytest.mark.parametrize("query, field", [("from=2026-06-01&to=2026-05-01", "to"), ("from=June&to=2026-07-01", "from"),
                                          ("from=2024-01-01&to=2026-01-01", "to")])
async def test_bad_csv_ranges_are_refused(owner, query, field):
    resp = await owner.get(f"/api/v1/sessions.csv?{query}")
    assert resp.status == 400 and (await resp.json())["field"] == field


async def test_savings_refuses_bad_periods(owner):
    for q in ("period=week", "period=year&date=20x6", "period=year&date=1900", "period=day&when=today"):
        assert (await owner.get(f"/api/v1/savings?{q}")).status == 400, q


async def test_today_is_four_totals_and_small(owner):
    resp = await owner.get("/api/v1/history/today")
    v = await resp.json()
    assert v["date"] == "2026-06-15"
    assert v["totals"]["ev_charge_kwh"] == pytest.approx(8.0, abs=0.05)
    assert v["totals"]["cost"] > 0
    assert len(await resp.read()) < 600          # not a day of curves


async def test_text_responses_are_gzipped(owner):
    for path in ("/", "/static/js/app.js", "/static/i18n/de.json", "/api/v1/history?period=day&date=2026-06-15"):
        resp = await owner.client.get(path, headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
        assert resp.status == 200 and resp.headers.get("Content-Encoding") == "gzip", path
    plain = await owner.client.get("/static/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers


def test_sessions_and_shares_are_pure():
    n = 120
    dense = {"grid_w": np.zeros(n), "pv_w": np.r_[np.full(60, 4000.0), np.zeros(60)], "load_w": np.full(n, 1000.0),
             "ev_w": np.full(n, 3000.0), "soc_pct": np.r_[np.full(100, 50.0), np.full(20, np.nan)]}
    split = energy_split(dense)
    assert split["ev_solar_kwh"] == pytest.approx(3.0)       # 60 min at 3 kW of the 3 kW surplus
    assert ratios({**split, "import_kwh": 2.0})["solar_share_pct"] == pytest.approx(50.0)
    [s] = charging_sessions(T0, dense)                        # the car left after 100 minutes
    assert s["end"] == "2026-06-15T11:40:00Z" and s["charged_kwh"] == pytest.approx(5.0)


def test_a_missed_reading_does_not_split_a_session():
    n = 60
    soc = np.full(n, 50.0)
    soc[20:23] = np.nan                                       # three minutes without a reading
    dense = {"grid_w": np.zeros(n), "pv_w": np.zeros(n), "load_w": np.zeros(n), "ev_w": np.full(n, 6000.0), "soc_pct": soc}
    [s] = charging_sessions(T0, dense)
    assert s["charged_kwh"] == pytest.approx(6.0) and s["end"] == "2026-06-15T11:00:00Z"
