from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from hems.control.trips import next_departure
from hems.domain import EvSession

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = {d: (time(7, 30), 80.0) for d in range(5)}


def test_same_day_before_departure():
    now = datetime(2024, 6, 3, 4, 0, tzinfo=timezone.utc)  # Monday 06:00 Paris
    trip = next_departure(now, PARIS, WEEKDAYS)
    assert trip == EvSession(datetime(2024, 6, 3, 5, 30, tzinfo=timezone.utc), 80.0)


def test_friday_evening_skips_weekend():
    now = datetime(2024, 6, 7, 18, 0, tzinfo=timezone.utc)  # Friday 20:00 Paris
    trip = next_departure(now, PARIS, WEEKDAYS)
    assert trip.departure == datetime(2024, 6, 10, 5, 30, tzinfo=timezone.utc)  # Monday


def test_dst_change_keeps_local_time():
    now = datetime(2024, 3, 29, 12, 0, tzinfo=timezone.utc)  # Friday; DST starts Sunday 31 March
    trip = next_departure(now, PARIS, WEEKDAYS)
    assert trip.departure == datetime(2024, 4, 1, 5, 30, tzinfo=timezone.utc)  # 07:30 CEST


def test_override_wins_while_ahead_then_schedule_returns():
    now = datetime(2024, 6, 3, 4, 0, tzinfo=timezone.utc)
    wish = EvSession(datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc), 95.0)
    assert next_departure(now, PARIS, WEEKDAYS, wish) == wish
    later = datetime(2024, 6, 3, 11, 0, tzinfo=timezone.utc)
    assert next_departure(later, PARIS, WEEKDAYS, wish).departure.day == 4


def test_no_schedule_no_trip():
    assert next_departure(datetime(2024, 6, 3, tzinfo=timezone.utc), PARIS, {}) is None


def test_dated_trip_replaces_that_days_weekly_departure():
    from hems.control.trips import upcoming_trips
    now = datetime(2024, 6, 3, 20, 0, tzinfo=timezone.utc)          # Monday 22:00 Paris
    tue_late = EvSession(datetime(2024, 6, 4, 9, 0, tzinfo=timezone.utc), 95.0)   # Tuesday 11:00
    trips = upcoming_trips(now, PARIS, WEEKDAYS, [tue_late])
    assert trips[0] == tue_late                                      # not Tuesday 07:30
    assert trips[1].departure == datetime(2024, 6, 5, 5, 30, tzinfo=timezone.utc)


def test_trip_after_midnight_is_the_next_local_day():
    now = datetime(2024, 6, 3, 21, 30, tzinfo=timezone.utc)         # Monday 23:30 Paris
    trip = next_departure(now, PARIS, {1: (time(0, 30), 60.0)})       # Tuesday 00:30
    assert trip.departure == datetime(2024, 6, 3, 22, 30, tzinfo=timezone.utc)


def test_missing_hour_moves_later_and_repeated_hour_takes_the_first():
    from hems.control.trips import local_departure
    from datetime import date
    spring = local_departure(date(2024, 3, 31), time(2, 30), PARIS)   # 02:30 does not exist
    assert spring == datetime(2024, 3, 31, 1, 30, tzinfo=timezone.utc)   # 03:30 CEST
    autumn = local_departure(date(2024, 10, 27), time(2, 30), PARIS)   # 02:30 happens twice
    assert autumn == datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc)  # the first, CEST


def test_departure_in_the_past_is_refused_in_plain_words():
    import pytest
    from hems.control.trips import TripError, check_departure
    now = datetime(2024, 6, 3, 6, 0, tzinfo=timezone.utc)
    with pytest.raises(TripError, match="Mon 03 Jun 07:30 is in the past"):
        check_departure(datetime(2024, 6, 3, 5, 30, tzinfo=timezone.utc), now, PARIS)
    check_departure(datetime(2024, 6, 3, 6, 30, tzinfo=timezone.utc), now, PARIS)
