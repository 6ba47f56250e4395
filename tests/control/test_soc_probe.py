"""A short charge to read the level of a car whose charger reports it only while power flows."""
from datetime import datetime, timedelta, timezone

from hems.control.soc_probe import ProbeRules, ProbeState, probe

T = datetime(2024, 6, 3, 20, tzinfo=timezone.utc)
RULES = ProbeRules(min_power_w=4140.0, duration_s=90, retry_s=3600)


def run(state, t, **kw):
    args = dict(plugged=True, soc_known=False, mode_allows_charge=True)
    args.update(kw)
    return probe(state, t, rules=RULES, **args)


def test_probe_charges_at_minimum_then_stops_when_the_level_is_read():
    w, s = run(ProbeState(), T)
    assert w == 4140.0
    w, s = run(s, T + timedelta(seconds=30))
    assert w == 4140.0
    w, s = run(s, T + timedelta(seconds=40), soc_known=True)
    assert w is None and s.done
    w, s = run(s, T + timedelta(hours=3))                 # known once: no more probes for this car
    assert w is None


def test_a_car_that_never_tells_is_tried_once_an_hour():
    w, s = run(ProbeState(), T)
    w, s = run(s, T + timedelta(seconds=91))
    assert w is None
    w, s = run(s, T + timedelta(minutes=30))
    assert w is None
    w, s = run(s, T + timedelta(seconds=91 + 3600))
    assert w == 4140.0


def test_never_in_off_mode_nor_without_a_car():
    assert run(ProbeState(), T, mode_allows_charge=False)[0] is None
    w, s = run(ProbeState(started_at=T, done=True), T, plugged=False)
    assert w is None and s == ProbeState()


def test_clock_stepping_back_ends_the_attempt():
    w, s = run(ProbeState(), T)
    w, s = run(s, T - timedelta(hours=2))
    assert w is None
    w, s = run(s, T - timedelta(hours=2) + timedelta(seconds=30))
    assert w is None
