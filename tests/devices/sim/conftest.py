"""Fixtures for the simulator tests."""
from __future__ import annotations

import pytest

from hems.domain.clock import ManualClock

from .helpers import T0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)
