"""The car's comings and goings in the store's event log, and the habits the plan and the
aggregator's envelope get from them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from hems.control.car_history import KIND, absences, expected_away, plug_message
from hems.domain.clock import ManualClock
from hems.domain.soc import SocKnowledge, SocSource
from hems.store import Store

TZ = ZoneInfo("Europe/Paris")
MONDAY = datetime(2024, 6, 3, tzinfo=timezone.utc)          # Monday 02:00 in Paris


def _weeks_of_commuting(store, weeks=4):
    """Weekdays: leaves 07:30 local (05:30 UTC) at 80 %, back 18:00 local at 62 %."""
    for w in range(weeks):
        for d in range(5):
            day = MONDAY + timedelta(weeks=w, days=d)
            leave = day.replace(hour=5, minute=30)
            store.add_event(KIND, plug_message(False, SocKnowledge(80, SocSource.MEASURED, leave)), at=leave)
            back = day.replace(hour=16)
            store.add_event(KIND, plug_message(True, SocKnowledge(62, SocSource.MEASURED, back)), at=back)
    store.flush()


def test_messages_pair_into_absences_with_their_levels():
    t = MONDAY
    events = [{"at": t + timedelta(hours=9), "message": "plugged in at 41 %"},
              {"at": t, "message": "unplugged at 80 %"},
              {"at": t + timedelta(hours=20), "message": "unplugged"},
              {"at": t + timedelta(hours=22), "message": "plugged in"}]
    got = absences(events)
    assert [(a.soc_left_pct, a.soc_back_pct) for a in got] == [(80.0, 41.0), (None, None)]
    assert got[0].back_at - got[0].left_at == timedelta(hours=9)


def test_weekday_habits_from_the_store_give_expected_absences_and_availability(tmp_path):
    now = MONDAY + timedelta(weeks=4)                        # the Monday after four weeks
    store = Store(tmp_path / "h.sqlite", clock=ManualClock(now))
    try:
        _weeks_of_commuting(store)
        times = [now + timedelta(minutes=15 * k) for k in range(192)]       # 48 h
        expected, plugged_p = expected_away(store, now, times, 900, TZ)
    finally:
        store.close()
    assert len(expected) == 2                                # Monday and Tuesday
    first = expected[0]
    assert first.leave.astimezone(TZ).strftime("%a %H:%M") == "Mon 07:30"
    assert first.back.astimezone(TZ).strftime("%H:%M") == "18:00"
    assert first.probability == 1.0 and first.used_pct == 18.0
    p = np.asarray(plugged_p)
    k_away = int((first.leave - now).total_seconds() // 900) + 2
    assert p[0] == 1.0 and p[k_away] == 0.0 and p[-1] == 1.0   # home at night, away at work


def test_no_history_expects_nothing():
    times = [MONDAY + timedelta(minutes=15 * k) for k in range(8)]
    assert expected_away(None, MONDAY, times, 900, TZ) == ([], [1.0] * 8)
