"""The car's habits learned from its absences."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from hems.forecast.habits import Absence, availability, expected_absences, learn

PARIS = ZoneInfo("Europe/Paris")


def commute_weeks(weeks: int, skip: set[tuple[int, int]] = frozenset()) -> list[Absence]:
    """Weekday commutes leaving 07:30 Paris, back after 10 h, using 12 %; a Saturday trip every other week."""
    out = []
    monday = datetime(2024, 6, 3, tzinfo=PARIS)
    for w in range(weeks):
        for d in range(5):
            if (w, d) in skip:
                continue
            leave = (monday + timedelta(weeks=w, days=d)).replace(hour=7, minute=30 + (w % 3) - 1)
            out.append(Absence(leave.astimezone(timezone.utc), (leave + timedelta(hours=10)).astimezone(timezone.utc),
                               80.0, 68.0))
        if w % 2 == 0:
            sat = (monday + timedelta(weeks=w, days=5)).replace(hour=10)
            out.append(Absence(sat.astimezone(timezone.utc), (sat + timedelta(hours=4)).astimezone(timezone.utc)))
    return out


def test_learns_weekday_commute_and_saturday_odds():
    habits = learn(commute_weeks(4, skip={(1, 2)}), PARIS, weeks=4)
    assert set(habits) == {0, 1, 2, 3, 4, 5}
    assert habits[0].leave == time(7, 30) and habits[0].probability == 1.0
    assert habits[2].probability == 0.75                      # one Wednesday missed
    assert habits[0].away_s == pytest.approx(10 * 3600)
    assert habits[0].used_pct == pytest.approx(12.0)
    assert habits[5].probability == 0.5 and habits[5].used_pct is None


def test_short_replugs_are_not_trips():
    t = datetime(2024, 6, 3, 8, tzinfo=timezone.utc)
    habits = learn([Absence(t, t + timedelta(minutes=5))], PARIS, weeks=1)
    assert habits == {}


def test_expected_absences_and_availability_over_48h():
    habits = learn(commute_weeks(4), PARIS, weeks=4)
    now = datetime(2024, 7, 1, 20, 0, tzinfo=timezone.utc)     # Monday 22:00 Paris
    trips = expected_absences(now, now + timedelta(hours=48), habits, PARIS)
    assert [t.leave.astimezone(PARIS).strftime("%a %H:%M") for t in trips] == ["Tue 07:30", "Wed 07:30"]
    times = [now + timedelta(minutes=15 * k) for k in range(192)]
    avail = availability(times, 900, trips)
    tue_noon = times.index(datetime(2024, 7, 2, 10, 0, tzinfo=timezone.utc))
    assert avail[0] == 1.0 and avail[tue_noon] == 0.0
    # a Saturday trip that happens every other week is below the default 0.5? it is exactly 0.5: kept
    sat = expected_absences(datetime(2024, 7, 5, 20, tzinfo=timezone.utc),
                            datetime(2024, 7, 7, 20, tzinfo=timezone.utc), habits, PARIS)
    assert [round(t.probability, 2) for t in sat] == [0.5]


def test_weeks_must_be_positive():
    with pytest.raises(ValueError):
        learn([], PARIS, weeks=0)
