"""The owner's live settings: one owner, saved in the store, never above the installer's limits."""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, time, timezone

import pytest

from hems.control.settings import OwnerSettings, SettingRefused
from hems.domain import Mode, Preferences
from hems.domain.clock import ManualClock
from hems.store import Store
from tests.simhome import sim_config

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def config(tmp_path):
    return sim_config(tmp_path / "data")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "hems.sqlite", clock=ManualClock(NOW))
    yield s
    s.close()


def test_saved_settings_replace_the_configs_at_the_next_start(config, store):
    owner = OwnerSettings(config, store)
    owner.set_site({"max_import_w": 9000.0}, NOW, "admin")
    owner.set_tariff({"import_markup_per_kwh": 0.3}, NOW, "admin")
    owner.set_weekly({4: (time(6, 15), 85.0)}, NOW, "admin")
    owner.set_preferences(Preferences(mode=Mode.SOLAR_ONLY, reserve_pct=35.0), "admin")
    again = OwnerSettings(config, store)
    assert again.site.max_import_w == 9000.0 and again.site.main_fuse_a == config.site.main_fuse_a
    assert again.tariff.import_markup_per_kwh == 0.3 and again.tariff.kind == config.tariff.kind
    assert again.weekly == {4: (time(6, 15), 85.0)}
    assert again.preferences == Preferences(mode=Mode.SOLAR_ONLY, reserve_pct=35.0)
    assert store.get_setting("settings.site") == {"max_import_w": 9000.0}


@pytest.mark.parametrize("changes, field, words", [
    ({"main_fuse_a": 40.0}, "main_fuse_a", "installer"),
    ({"max_export_w": 1e9}, "max_export_w", "installer"),
    ({"max_import_w": -1.0}, "max_import_w", "negative"),
    ({"max_import_w": math.nan}, "max_import_w", "finite"),
    ({"max_import_w": math.inf}, "max_import_w", "finite"),
    ({"phases": 1}, "phases", "no site setting"),
])
def test_site_limits_only_go_down(config, store, changes, field, words):
    owner = OwnerSettings(config, store)
    with pytest.raises(SettingRefused) as exc:
        owner.set_site(changes, NOW, "admin")
    assert exc.value.field == field and words in str(exc.value)
    assert owner.site == owner.installer_site
    assert store.get_setting("settings.site") is None


def test_a_saved_limit_above_a_lowered_config_is_capped(config, store):
    OwnerSettings(config, store).set_site({"max_export_w": 9000.0}, NOW, "admin")
    lowered = replace(config, site=replace(config.site, max_export_w=6000.0))
    assert OwnerSettings(lowered, store).site.max_export_w == 6000.0


def test_tariff_refuses_non_finite_and_unknown_fields(config, store):
    owner = OwnerSettings(config, store)
    with pytest.raises(SettingRefused):
        owner.set_tariff({"import_markup_per_kwh": math.nan}, NOW, "admin")
    with pytest.raises(SettingRefused):
        owner.set_tariff({"kind": "fixed"}, NOW, "admin")
    assert owner.tariff == config.tariff


def test_enrolment_waits_for_a_restart(config, store):
    owner = OwnerSettings(config, store)
    applied = owner.set_aggregator({"payment_per_kwh": 0.2}, NOW, "admin")
    assert applied.restart_needed and owner.view().restart_needed
    assert not OwnerSettings(config, store).view().restart_needed      # after the restart
    with pytest.raises(SettingRefused, match="set site_id too"):
        owner.set_aggregator({"enabled": True, "host": "b.example", "site_id": ""}, NOW, "admin")
