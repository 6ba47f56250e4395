"""Fixtures for the SD card image tests (helpers in image_vm.py and guest_aggregator.py)."""
from pathlib import Path

import pytest

from guest_aggregator import GuestAggregator
from image_vm import image  # noqa: F401  (session fixture: the built test image)


@pytest.fixture
def aggregator(tmp_path: Path):
    """A host-side aggregator (mosquitto with mutual TLS) a VM reaches through a guest forward."""
    agg = GuestAggregator(tmp_path / "aggregator")
    agg.start()
    yield agg
    agg.stop()
