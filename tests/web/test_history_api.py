"""History on a real SQLite store: energy per day and month, cost against charge-on-arrival."""
from __future__ import annotations

from datetime import timedelta

import pytest

from hems.domain import ChargerReading, ChargerState, MeterReading, PvReading, SiteState
from hems.store import Store
from tests.web.conftest import T0


def _price(at):
    """0.40 per kWh before 13:00 UTC, 0.10 after; export 0.05."""
    return (0.40 if at.hour < 13 else 0.10), 0.05


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "hems.sqlite", flush_interval_s=3600, clock=clock, prices=_price)
    # 10:00-14:00 UTC, one sample per minute: house 600 W, no PV; the car (plugged, SoC known)
    # waits for the cheap hour and charges 6 kW from 13:00 to 14:00 (6 kWh).
    for m in range(240):
        at = T0 + timedelta(minutes=m)
        ev_w = 6000.0 if m >= 180 else 0.0
        s.add_measurement(SiteState(
            at=at, meter=MeterReading(at=at, grid_power_w=600.0 + ev_w), pv=PvReading(at=at, pv_power_w=0.0),
            charger=ChargerReading(at=at, ev_power_w=ev_w, state=ChargerState.CONNECTED, soc_pct=50.0)))
    s.flush(include_current_minute=True)
    yield s
    s.close()


async def test_day_totals_and_baseline(owner):
    resp = await owner.get("/api/v1/history?period=day&date=2026-06-15")
    assert resp.status == 200, await resp.text()
    v = await resp.json()
    t = v["totals"]
    assert t["ev_charge_kwh"] == pytest.approx(6.0, abs=0.01)
    assert t["load_kwh"] == pytest.approx(2.4, abs=0.01)
    assert t["import_kwh"] == pytest.approx(8.4, abs=0.01)
    # actual: 1.8 kWh house at 0.40 + (0.6 + 6) kWh at 0.10; baseline: car at 11 kW from 10:00
    assert t["cost"] == pytest.approx(1.8 * 0.40 + 6.6 * 0.10, abs=0.01)
    assert t["baseline_cost"] == pytest.approx(1.8 * 0.40 + 0.6 * 0.10 + 6.0 * 0.40, abs=0.01)
    assert t["savings"] == pytest.approx(6.0 * (0.40 - 0.10), abs=0.01)
    assert len(v["curves"]["time"]) == 24 * 12
    assert v["timezone"] == "Europe/Amsterdam" and v["from"] == "2026-06-15"


async def test_month_has_per_day_buckets(owner):
    v = await (await owner.get("/api/v1/history?period=month&date=2026-06")).json()
    assert v["from"] == "2026-06-01" and v["to"] == "2026-07-01"
    assert [b["day"] for b in v["buckets"]] == ["2026-06-15"]
    assert v["curves"] is None


@pytest.mark.parametrize("query, message", [
    ("period=year", "period must be day or month"),
    ("period=day&date=2026-13-01", "YYYY-MM-DD"),
    ("period=month&date=June", "YYYY-MM"),
    ("period=day&when=today", "unknown query parameter 'when'"),
])
async def test_bad_history_queries(owner, query, message):
    resp = await owner.get(f"/api/v1/history?{query}")
    assert resp.status == 400
    assert message in (await resp.json())["error"]


async def test_users_live_in_the_store_file(owner, store):
    rows = store.query("SELECT username, role FROM web_users")
    assert rows == [("admin", "admin")]
    assert store.query("SELECT COUNT(*) FROM web_sessions")[0][0] == 1
