"""Pure parts: the charge-on-arrival baseline, the weekly schedule, the login limiter, passwords."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hems.web.baseline import baseline_ev_w, compare, exchange_cost, sessions
from hems.web.passwords import hash_password, password_problem, verify_password
from hems.web.ratelimit import LoginLimiter
from hems.web.schedule import from_weekly, next_local, to_weekly

NAN = np.nan


def test_sessions_are_runs_of_known_soc():
    soc = np.array([NAN, 50, 51, NAN, NAN, 70, 71, 72])
    assert sessions(soc) == [(1, 3), (5, 8)]


def test_baseline_charges_same_energy_at_arrival():
    soc = np.array([NAN, 50, 50, 50, 50, 50, NAN])
    ev = np.array([0, 0, 0, 0, 3000, 3000, 0.0])           # hems charged late: 6000 W·min
    base = baseline_ev_w(ev, soc, max_charge_w=4000)
    assert base.tolist() == [0, 4000, 2000, 0, 0, 0, 0]
    assert base.sum() == ev.sum()


def test_baseline_never_discharges_and_nets_out_v2g():
    soc = np.array([50, 50, 50, 50.0])
    ev = np.array([4000, 4000, -2000, 0.0])                 # net 6000 W·min
    assert baseline_ev_w(ev, soc, 4000).tolist() == [4000, 2000, 0, 0]


def test_exchange_cost_signs():
    grid = np.array([60_000.0, -60_000.0])                   # 1 kWh bought, 1 kWh sold
    assert exchange_cost(grid, np.array([0.3, 0.3]), np.array([0.1, 0.1])) == pytest.approx(0.2)


def test_shifting_to_cheap_minutes_saves():
    n = 4
    load, pv = np.zeros(n), np.zeros(n)
    soc = np.full(n, 50.0)
    price_imp = np.array([0.40, 0.40, 0.10, 0.10])
    ev = np.array([0, 0, 6000, 6000.0])                      # hems waited for the cheap minutes
    r = compare(load, pv, ev, soc, price_imp, np.zeros(n), max_charge_w=6000)
    assert r["cost"] == pytest.approx(0.2 * 0.10)
    assert r["baseline_cost"] == pytest.approx(0.2 * 0.40)
    assert r["savings"] == pytest.approx(0.2 * 0.30)


def test_next_local_crosses_midnight_and_dst():
    tz = ZoneInfo("Europe/Paris")
    now = datetime(2026, 3, 28, 22, 0, tzinfo=timezone.utc)  # 23:00 local, DST starts that night
    got = next_local("07:30", now, tz)
    assert got.astimezone(tz).strftime("%Y-%m-%d %H:%M") == "2026-03-29 07:30"
    assert got == datetime(2026, 3, 29, 5, 30, tzinfo=timezone.utc)


def test_weekly_round_trip():
    weekly = {0: (time(7, 0), 80.0), 5: (time(10, 30), 60.0)}
    schedule = from_weekly(weekly)
    assert schedule["mon"] == {"departure": "07:00", "target_soc_pct": 80.0} and schedule["tue"] is None
    assert to_weekly(schedule) == weekly


def test_limiter_locks_per_key_and_expires():
    lim = LoginLimiter(max_failures=3, window_s=60)
    t0 = 1000.0     # monotonic seconds
    for k in range(3):
        assert lim.retry_after_s(["ip:a", "user:x"], t0 + k) == 0
        lim.failed(["ip:a", "user:x"], t0 + k)
    assert lim.retry_after_s(["ip:b", "user:x"], t0 + 5) == pytest.approx(55)
    assert lim.retry_after_s(["ip:b", "user:y"], t0 + 5) == 0
    assert lim.retry_after_s(["ip:a"], t0 + 61) == 0


def test_password_hash_round_trip_and_rules():
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)
    assert not verify_password("x", "garbage")
    assert hash_password("correct horse battery") != stored            # salted
    assert password_problem("0123456789") is None
    assert "at least" in password_problem("123")


@pytest.mark.parametrize("addr, lan", [
    ("192.168.1.20", True), ("10.0.0.5", True), ("127.0.0.1", True), ("fe80::1", True), ("::1", True),
    ("8.8.8.8", False), ("2001:4860:4860::8888", False), ("unknown", False), ("", False),
])
def test_lan_addresses(addr, lan):
    from hems.web.auth import is_lan
    assert is_lan(addr) is lan


@pytest.mark.parametrize("host, ok", [
    ("192.168.1.20:8080", True), ("127.0.0.1", True), ("[fe80::1]:8080", True), ("localhost:8080", True),
    ("hems", True), ("hems.local", True), ("pi.home.arpa:8080", True), ("hems.lan.", True),
    ("evil.example.com", False), ("rebind.attacker.net:8080", False), ("", False), (None, False),
])
def test_local_host_names(host, ok):
    from hems.web.auth import is_local_host
    assert is_local_host(host) is ok
