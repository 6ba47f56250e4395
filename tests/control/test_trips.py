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
