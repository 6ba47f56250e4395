"""Finding 3 and 11 for config.toml: nan/inf refused everywhere a number is read, a reserve
above the default target and a data_dir under /proc refused, each with the key named."""
from __future__ import annotations

import math

import pytest

from tests.config.test_config import errors_of, mutated


@pytest.mark.parametrize("key", ["site.main_fuse_a", "site.max_import_w", "ev.reserve_pct",
                                 "ev.max_charge_w", "storage.flush_interval_s", "planner.horizon_h"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(key, value):
    errors = errors_of(mutated({key: value}))
    assert any(e.startswith(f"{key}: ") for e in errors), errors


def test_reserve_above_default_target_is_refused():
    errors = errors_of(mutated({"ev.reserve_pct": 90, "ev.default_target_soc_pct": 80}))
    assert any(e.startswith("ev.reserve_pct: 90 is above default_target_soc_pct (80)") for e in errors), errors


@pytest.mark.parametrize("path", ["/proc/hems", "/proc", "/sys/kernel/hems", "/dev/shm/../hems"])
def test_data_dir_under_a_kernel_file_system_is_refused(path):
    errors = errors_of(mutated({"storage.data_dir": path}))
    assert any(e.startswith("storage.data_dir: ") and "kernel file system" in e for e in errors), errors
