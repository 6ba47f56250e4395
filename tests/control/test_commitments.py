"""CommitmentBook: what the home promised, the ids a new promise supersedes, signals, the default."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from hems.control.api import Refused
from hems.control.arbitration import Flex, HomeLimits, Request
from hems.control.commitments import CommitmentBook
from hems.control.safety import SafetyLimits
from hems.domain import ChargerReading, ChargerState, MeterReading, SiteState

T = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)
FLEX = Flex(start=T, interval_s=900, baseline_ev_w=np.zeros(8), up_w=np.full(8, 8000.0),
            down_w=np.full(8, 8000.0), rest_grid_w=np.full(8, 500.0))
LIM = HomeLimits(max_charge_w=11000, max_discharge_w=10000, min_charge_w=0, reserve_pct=20, soc_pct=60,
                 plugged=True)
SAFETY = SafetyLimits(phases=3, voltage_v=230, main_fuse_a=25, max_import_w=17000, max_export_w=10000,
                      min_charge_w=4140, max_charge_w=11000, min_discharge_w=4140, max_discharge_w=10000,
                      reserve_pct=20)


def event(id_, minutes=30, priority=0, **kw):
    return Request(id=id_, kind=kw.pop("kind", "event"), start=T, end=T + timedelta(minutes=minutes),
                   priority=priority, **kw)


def state(grid_w=1500.0, ev_w=1000.0):
    return SiteState(at=T, meter=MeterReading(at=T, grid_power_w=grid_w),
                     pv=None, charger=ChargerReading(at=T, ev_power_w=ev_w, state=ChargerState.CHARGING))


def test_a_new_event_supersedes_equal_priority_and_names_them():
    book = CommitmentBook()
    assert book.offer(event("a", target_w=-3000), FLEX, LIM, T).status == "accepted"
    d = book.offer(event("b", target_w=-4000), FLEX, LIM, T)
    assert d.status == "accepted" and d.superseded == ("a",)
    assert [c.id for c in book.commitments] == ["b"]


def test_named_supersedes_end_even_when_the_new_one_is_rejected():
    book = CommitmentBook()
    later = Request(id="a", kind="event", start=T + timedelta(hours=1), end=T + timedelta(hours=1, minutes=30),
                    target_w=-3000)
    assert book.offer(later, FLEX, LIM, T).status == "accepted"
    assert book.offer(event("hi", priority=5, target_w=-3000, minutes=60), FLEX, LIM, T).superseded == ()
    d = book.offer(event("b", target_w=-3000, supersedes=("a",)), FLEX, LIM, T)
    assert (d.status, d.code, d.superseded) == ("rejected", "conflict", ("a",))
    assert [c.id for c in book.commitments] == ["hi"]          # "a" ended, "b" refused


def test_signals_follow_the_band_and_the_centre_holds_when_they_stop():
    book = CommitmentBook()
    d = book.offer(event("r", kind="regulation", band_w=2000, center_w=3000, signal_interval_s=2.0), FLEX, LIM, T)
    assert d.status == "accepted"
    book.signal("r", 1.0, T)
    assert book.bounds(T)[0].max_ev_w == book.bounds(T)[0].min_ev_w == 5000
    silent = T + timedelta(seconds=7)
    assert book.bounds(silent)[0].min_ev_w == 3000                   # the centre
    with pytest.raises(Refused) as exc:
        book.signal("nope", 0.5, T)
    assert exc.value.code == "unknown_id"
    with pytest.raises(Refused) as exc:
        book.signal("r", 0.5, T + timedelta(hours=1))
    assert exc.value.code == "over"


def test_the_default_control_follows_the_house_and_clears_at_once():
    book = CommitmentBook()
    book.set_default(2000.0, None)
    assert book.refresh_default(state(), SAFETY, T)
    default = book.commitments[0]
    assert default.priority < 0 and default.max_ev_w == 2000.0 - 500.0     # the house draws 500 W
    assert not book.refresh_default(state(grid_w=1550.0), SAFETY, T)       # within the hysteresis
    assert book.set_default(None, None) == "default control cleared"
    assert book.commitments == () and book.bounds(T) == []
    assert not book.refresh_default(state(), SAFETY, T)
