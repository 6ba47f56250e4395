"""The store: batching, reading back after reopen, migrations, energy sums, kill -9 safety."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from hems.domain import ChargerReading, ChargerState, MeterReading, Plan, PvReading, Setpoint, SiteState
from hems.domain.clock import ManualClock
from hems.store import MIGRATIONS, Migration, Store, StoreError, migrate, schema_version
from hems.store.db import connect

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def state(at: datetime, grid_w: float, pv_w: float = 0.0, ev_w: float = 0.0, soc_pct: float | None = 50.0) -> SiteState:
    return SiteState(at, MeterReading(at, grid_w), PvReading(at, pv_w),
                     ChargerReading(at, ev_w, ChargerState.CHARGING if ev_w else ChargerState.CONNECTED,
                                    soc_pct=soc_pct))


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as c:   # an independent reader, as another process would be
        return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "hems.sqlite"


def test_writes_are_batched_until_the_interval_passes(db):
    mono = FakeMonotonic()
    store = Store(db, flush_interval_s=60, clock=ManualClock(T0), monotonic=mono)
    for s in range(0, 300, 2):                       # five minutes of 2 s samples
        mono.t = s / 10                              # 30 s of wall time
        store.add_measurement(state(T0 + timedelta(seconds=s), 1000.0))
    store.add_event("devices", "meter online", who="agent")
    assert count(db, "measurements") == 0 and count(db, "events") == 0
    assert store.pending() == 5                      # 4 finished minutes + 1 event
    mono.t = 61
    store.add_measurement(state(T0 + timedelta(seconds=300), 1000.0))
    assert count(db, "measurements") == 5 and count(db, "events") == 1
    assert store.pending() == 0 and store.flush_count == 1
    store.close()


def test_minute_means_signs_and_reopen(db):
    clock = ManualClock(T0)
    store = Store(db, flush_interval_s=3600, clock=clock)
    for s in range(0, 60, 10):                       # grid alternates +2000 / -1000 within one minute
        g = 2000.0 if s % 20 == 0 else -1000.0
        store.add_measurement(state(T0 + timedelta(seconds=s), g, pv_w=3000.0, ev_w=-2000.0 if s < 30 else 4000.0,
                                    soc_pct=60.0 + s / 10))
    store.add_setpoint(Setpoint(T0, 4140.0, "cheap hour", clamped_by=("fuse",)))
    store.add_event("preferences", "owner set reserve 30 %", who="owner")
    store.set_preferences({"mode": "smart", "next_trip": {"target_soc_pct": 80}}, who="owner")
    plan = Plan(T0, 900, np.array([0.0, 4140.0]), np.array([50.0, 50.0, 55.0]), np.array([300.0, 4440.0]), 0.42,
                solve_ms=3.5, breakdown={"import": np.float64(0.5)})
    store.add_plan(plan)
    store.close()

    again = Store(db)
    m = again.measurements(T0, T0 + timedelta(minutes=1))
    assert list(m["time"]) == [np.datetime64(int(T0.timestamp()), "s")]
    assert m["grid_w"][0] == pytest.approx(500.0)            # mean of 3 x 2000 and 3 x -1000
    assert m["import_w"][0] == pytest.approx(1000.0) and m["export_w"][0] == pytest.approx(500.0)
    assert m["ev_charge_w"][0] == pytest.approx(2000.0) and m["ev_discharge_w"][0] == pytest.approx(1000.0)
    assert m["soc_pct"][0] == pytest.approx(65.0)            # the last SoC of the minute
    assert again.setpoints(T0, T0 + timedelta(hours=1)) == [
        {"at": T0, "ev_power_w": 4140.0, "reason": "cheap hour", "clamped_by": ("fuse",)}]
    assert [(e["kind"], e["who"]) for e in again.events()] == [("preferences", "owner")]
    assert again.get_preferences() == {"mode": "smart", "next_trip": {"target_soc_pct": 80}}
    assert {p["who"] for p in again.preference_log()} == {"owner"}
    latest = again.latest_plan()
    assert latest["ev_w"] == [0.0, 4140.0] and latest["cost"] == 0.42 and latest["breakdown"] == {"import": 0.5}
    again.close()


def test_preferences_are_committed_at_once(db):
    store = Store(db, flush_interval_s=3600, clock=ManualClock(T0))
    store.set_preferences({"reserve_pct": 30}, who="owner")
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT value_json, who FROM preferences").fetchall() == [("30", "owner")]
    store.close()


def test_restart_within_a_minute_merges_by_sample_count(db):
    store = Store(db, clock=ManualClock(T0))
    for s in (0, 10, 20):
        store.add_measurement(state(T0 + timedelta(seconds=s), 900.0, soc_pct=None))
    store.close()
    store = Store(db, clock=ManualClock(T0))
    store.add_measurement(state(T0 + timedelta(seconds=40), 100.0, soc_pct=None))
    store.close()
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT n, grid_w FROM measurements").fetchall() == [(4, 700.0)]


def test_energy_per_local_day_and_month_with_cost(db):
    # Constant 1200 W import and 600 W PV for 2 h, straddling local midnight in Paris (UTC+2 in June).
    start = datetime(2024, 6, 30, 21, 0, tzinfo=timezone.utc)          # 23:00 local, June 30
    store = Store(db, prices=lambda t: (0.30, 0.10), clock=ManualClock(start))
    for minute in range(120):
        at = start + timedelta(minutes=minute)
        store.add_measurement(state(at, 1200.0, pv_w=600.0, ev_w=0.0))
    store.close()
    store = Store(db)
    days = store.energy_by_day("Europe/Paris", date(2024, 6, 30), date(2024, 7, 2))
    assert [d["day"] for d in days] == ["2024-06-30", "2024-07-01"]
    for d in days:
        assert d["import_kwh"] == pytest.approx(1.2) and d["pv_kwh"] == pytest.approx(0.6)
        assert d["export_kwh"] == 0 and d["cost"] == pytest.approx(1.2 * 0.30)
        assert d["load_kwh"] == pytest.approx(1.8) and d["minutes"] == 60
    months = store.energy_by_month("Europe/Paris", date(2024, 6, 1), date(2024, 8, 1))
    assert [(m["month"], round(m["import_kwh"], 6)) for m in months] == [("2024-06", 1.2), ("2024-07", 1.2)]
    store.close()


def test_migrations_are_idempotent_and_extendable(db):
    conn = connect(db)
    assert migrate(conn) == len(MIGRATIONS)
    assert migrate(conn) == len(MIGRATIONS)                 # nothing to do the second time
    extra = [*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "dispatch log",
                                    ("CREATE TABLE dispatch_log (id INTEGER PRIMARY KEY, body TEXT)",))]
    assert migrate(conn, extra) == len(extra)
    assert migrate(conn, extra) == len(extra)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'dispatch_log'").fetchone()
    conn.close()
    store = Store(db, migrations=extra)                     # the store's own API reaches the new table
    with store.transaction() as c:
        c.execute("INSERT INTO dispatch_log (body) VALUES ('x')")
    with pytest.raises(ZeroDivisionError), store.transaction() as c:
        c.execute("INSERT INTO dispatch_log (body) VALUES ('rolled back')")
        1 / 0
    assert store.query("SELECT body FROM dispatch_log") == [("x",)]
    store.close()
    conn = connect(db)
    with pytest.raises(StoreError, match="newer than this hems"):
        migrate(conn, MIGRATIONS)                           # an older hems on a newer database
    conn.close()


def test_failed_migration_rolls_back(db):
    conn = connect(db)
    migrate(conn)
    bad = [*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken",
                                  ("CREATE TABLE half (x)", "THIS IS NOT SQL"))]
    with pytest.raises(StoreError, match="broken"):
        migrate(conn, bad)
    assert schema_version(conn) == len(MIGRATIONS)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    with pytest.raises(StoreError, match="expected 1"):
        migrate(conn, [Migration(2, "misnumbered", ())])
    conn.close()


def test_a_failed_flush_keeps_the_rows(db):
    store = Store(db, flush_interval_s=3600, clock=ManualClock(T0))
    with sqlite3.connect(db) as c:   # the disk refuses event writes for a while
        c.execute("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    store.add_event("devices", "charger offline")
    store.add_measurement(state(T0, 100.0))
    store.add_measurement(state(T0 + timedelta(minutes=1), 100.0))
    assert store.flush() == 0 and "disk says no" in store.last_error
    assert count(db, "measurements") == 0                    # one transaction: all or nothing
    with sqlite3.connect(db) as c:
        c.execute("DROP TRIGGER refuse")
    assert store.flush() == 2 and store.last_error is None
    assert count(db, "events") == 1 and count(db, "measurements") == 1
    store.close()


def test_committed_rows_survive_kill_9(db):
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("writer_proc.py")), str(db)],
                            stdout=subprocess.PIPE, text=True)
    committed = 0
    try:
        for line in proc.stdout:
            _, events, flushes = line.split()
            committed = int(events)
            if int(flushes) >= 15:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL and committed > 0
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        messages = {m for (m,) in c.execute("SELECT message FROM events")}
        assert {f"event {i}" for i in range(1, committed + 1)} <= messages
        n_events = len(messages)
        ids = [i for (i,) in c.execute("SELECT id FROM events ORDER BY id")]
        assert ids == list(range(1, n_events + 1))            # no holes: whole transactions only
        assert c.execute("SELECT COUNT(*) FROM measurements").fetchone()[0] > 0
    store = Store(db)                                        # and hems can open it again
    assert len(store.events(limit=10**6)) == n_events
    store.close()


def test_reads_from_another_thread_while_the_loop_writes(db):
    import threading

    store = Store(db, flush_interval_s=0.0, clock=ManualClock(T0))   # flush on every add
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                m = store.measurements(T0, T0 + timedelta(days=1))
                assert len(m["time"]) == len(m["grid_w"])
                store.energy_by_day("UTC", T0.date(), T0.date() + timedelta(days=1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for s in range(0, 3600, 5):
        store.add_measurement(state(T0 + timedelta(seconds=s), 100.0 + s))
        if s % 60 == 0:
            store.add_event("tick", str(s))
    stop.set()
    thread.join(timeout=30)
    store.close()
    assert not errors, errors
    assert count(db, "measurements") == 60 and count(db, "events") == 60


def test_means_average_minutes_into_buckets(tmp_path):
    from datetime import datetime, timedelta, timezone

    from hems.domain import ChargerReading, ChargerState, MeterReading, PvReading, SiteState
    from hems.domain.clock import ManualClock
    from hems.store import Store

    t0 = datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc)
    clock = ManualClock(t0)
    store = Store(tmp_path / "h.sqlite", clock=clock)
    for k in range(30):                      # 30 minutes: PV k*100 W, grid 0, car idle
        at = t0 + timedelta(minutes=k)
        store.add_measurement(SiteState(at=at, meter=MeterReading(at=at, grid_power_w=0.0),
                                        pv=PvReading(at=at, pv_power_w=k * 100.0),
                                        charger=ChargerReading(at=at, ev_power_w=0.0,
                                                               state=ChargerState.CONNECTED)))
    store.flush(include_current_minute=True)
    h = store.means(t0, t0 + timedelta(hours=1), 900)
    assert list(h["time"].astype("int64")) == [int(t0.timestamp()), int(t0.timestamp()) + 900]
    assert h["pv_w"].tolist() == [700.0, 2200.0]          # means of 0..1400 and 1500..2900
    assert h["load_w"].tolist() == h["pv_w"].tolist()     # grid 0: the house used all of it
    store.close()
