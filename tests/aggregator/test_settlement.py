"""Pure settlement: sample-and-hold metering per baseline interval, gaps, cancel, the message."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hems.aggregator.ledger import EventRecord
from hems.aggregator.messages import format_time, schema_error
from hems.aggregator.settlement import EventMeter, settlement_message

T0 = datetime(2026, 6, 1, 17, 0, tzinfo=timezone.utc)


def record(minutes=30, cancelled_at=None, start_min=5) -> EventRecord:
    baseline = {"start": format_time(T0), "interval_s": 900, "ev_w": [2000.0, 2000.0, 0.0, 0.0]}
    return EventRecord("e1", "event", T0 + timedelta(minutes=start_min),
                       T0 + timedelta(minutes=start_min + minutes), -4000, -4000, 0, baseline, "active",
                       cancelled_at)


def feed(meter: EventMeter, start: datetime, end: datetime, ev_w: float, grid_w: float, step_s=10.0):
    t = start
    while t <= end:
        meter.add(t, ev_w, grid_w)
        t += timedelta(seconds=step_s)


def test_intervals_split_at_the_baseline_grid_and_clip_to_the_window():
    m = EventMeter(record())                                   # 17:05 .. 17:35
    feed(m, T0, T0 + timedelta(minutes=40), -4000, -3500)
    msg = settlement_message(m, "s1", 1, T0 + timedelta(minutes=40))
    assert [i["duration_s"] for i in msg["intervals"]] == [600, 900, 300]
    first = msg["intervals"][0]
    assert first["ev_kwh"] == pytest.approx(-4000 * 600 / 3.6e6, abs=1e-4)
    assert first["baseline_ev_kwh"] == pytest.approx(2000 * 600 / 3.6e6, abs=1e-4)
    assert first["delivered_kwh"] == pytest.approx(-6000 * 600 / 3.6e6, abs=1e-4)
    assert first["committed_kwh"] == pytest.approx(-4000 * 600 / 3.6e6, abs=1e-4)
    assert msg["total"]["ev_kwh"] == pytest.approx(-4000 * 1800 / 3.6e6, abs=1e-3)
    assert schema_error("settlement", msg) is None


def test_a_gap_is_not_metered_and_not_counted_as_delivery():
    m = EventMeter(record())
    feed(m, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10), -4000, -3500)
    m.add(T0 + timedelta(minutes=12), None, None)                # stale data: the chain breaks
    feed(m, T0 + timedelta(minutes=20), T0 + timedelta(minutes=35), -4000, -3500)
    msg = settlement_message(m, "s1", 1, T0 + timedelta(minutes=35))
    first = msg["intervals"][0]
    assert first["metered_s"] == pytest.approx(300, abs=1)      # 17:05-17:10 only
    assert first["baseline_ev_kwh"] == pytest.approx(2000 * 300 / 3.6e6, abs=1e-4)


def test_cancel_ends_the_settlement_early():
    m = EventMeter(record(cancelled_at=T0 + timedelta(minutes=12)))
    feed(m, T0, T0 + timedelta(minutes=30), -4000, -3500)
    msg = settlement_message(m, "s1", 1, T0 + timedelta(minutes=30))
    assert msg["cancelled"] and msg["end"] == format_time(T0 + timedelta(minutes=12))
    assert sum(i["metered_s"] for i in msg["intervals"]) == pytest.approx(420, abs=1)


def test_restore_continues_the_integration():
    m = EventMeter(record())
    feed(m, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10), -4000, -3500)
    again = EventMeter.restore(m.record, m.snapshot())
    feed(again, T0 + timedelta(minutes=11), T0 + timedelta(minutes=15), -4000, -3500)
    assert again.per_k[0][2] == pytest.approx(300 + 240, abs=1)
