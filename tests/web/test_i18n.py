"""Every text the UI shows exists in all four languages, with the same {placeholders}; every key
the scripts ask for exists; no translation is left empty or in English by mistake."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dataclasses

from hems.domain import ChargerState, ChargingNeeds

STATIC = Path(__file__).resolve().parents[2] / "hems" / "web" / "static"
LANGS = ("en", "de", "nl", "fr")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# keys built at run time from a fixed list: every member must exist
DYNAMIC = {
    "page.": ("overview", "plan", "car", "history", "devices", "settings"),
    "mode.": ("smart", "solar_only", "fast", "off", "smart_text", "solar_only_text", "fast_text", "off_text"),
    "role.": ("meter", "pv", "charger"),
    "history.": ("day", "month", "year"),
    "tariff.": ("fixed", "tou", "dynamic"),
    "notify.event_": ("target_unreachable", "not_plugged", "device_offline", "aggregator_event", "price_spike",
                      "update_available"),
    "notify.channel_": ("ntfy", "email", "mqtt", "webhook", "ntfy_hint", "email_hint", "mqtt_hint", "webhook_hint"),
    "notify.security_": ("starttls", "ssl", "none"),
    "savings.note_": ("no_prices", "no_payment", "no_settlements"),
}
# the same word in English and another language is fine for these (names, units, loanwords)
SAME_OK = {"page.plan", "status.live", "mode.smart", "flow.solar", "energy.solar", "devices.online", "common.no",
           "plan.title", "plan.reserve", "car.mode", "car.reserve", "settings.aggregator", "field.port",
           "field.mode", "field.host", "reading.state", "devices.message", "notify.title", "notify.email_port",
           "notify.mqtt_port", "notify.channel_webhook", "notify.channel_mqtt", "notify.security_starttls",
           "notify.security_ssl", "history.later", "overview.car", "page.car", "energy.car", "auth.password",
           "notify.email_password", "notify.mqtt_password", "settings.password", "plan.charge_level", "page.pages",
           "nav.pages", "notify.channel_email", "overview.mode", "car.mode_set", "plan.event_range", "time.seconds_ago",
           "time.minutes_ago", "common.loading", "mode.off", "devices.site", "notify.mqtt_topic", "reason.event",
           "devices.system"}


def _reading_fields() -> tuple[str, ...]:
    """Every field a device reading has (the Devices page shows them): each needs a name."""
    from dataclasses import fields

    from hems.domain import ChargerReading, MeterReading, PvReading
    return tuple(f.name for cls in (MeterReading, PvReading, ChargerReading) for f in fields(cls) if f.name != "at")


DYNAMIC["reading."] = _reading_fields()
DYNAMIC["charger_state."] = tuple(s.value for s in ChargerState)
DYNAMIC["needs."] = tuple(f.name for f in dataclasses.fields(ChargingNeeds) if f.name != "at")


def load(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def used_keys() -> set[str]:
    keys = set()
    for path in (STATIC / "js").rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'\bt\("([a-z0-9_]+\.[a-z0-9_.]+)"', text))
    keys |= {el for el in re.findall(r'data-i18n="([^"]+)"', (STATIC / "index.html").read_text())}
    keys |= {prefix + name for prefix, names in DYNAMIC.items() for name in names}
    return keys


def test_every_key_the_ui_uses_is_in_english():
    missing = sorted(used_keys() - set(load("en")))
    assert not missing, f"keys used in the UI but missing from en.json: {missing}"


@pytest.mark.parametrize("lang", LANGS[1:])
def test_every_language_has_every_string(lang):
    en, other = load("en"), load(lang)
    assert sorted(set(en) - set(other)) == [], f"{lang}.json lacks these strings"
    assert sorted(set(other) - set(en)) == [], f"{lang}.json has strings English does not"
    for key, text in other.items():
        assert text.strip(), f"{lang}: {key} is empty"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(en[key])), f"{lang}: {key} placeholders differ"


@pytest.mark.parametrize("lang", LANGS[1:])
def test_translations_are_not_english_left_overs(lang):
    en, other = load("en"), load(lang)
    same = sorted(k for k in en if en[k] == other[k] and len(en[k]) > 3 and k not in SAME_OK
                  and not k.startswith(("reading.", "notify.security")))
    assert len(same) <= 3, f"{lang}: still English: {same}"
