"""[ocpp] and chargers with transport = "ocpp" in config.toml."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from hems.config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
BASE = tomllib.loads((ROOT / "config.toml").read_text())
CHARGER = {"role": "charger", "profile": "ocpp", "transport": "ocpp", "charge_point_id": "WB-0042"}


def config(charger=None, ocpp=None, tmp=None):
    data = copy.deepcopy(BASE)
    data["devices"]["charger"] = {**CHARGER, **(charger or {})}
    data["tariff"]["prices_csv"] = str(ROOT / data["tariff"]["prices_csv"])
    if ocpp is not False:
        data["ocpp"] = ocpp or {}
    return parse_config(data, base_dir=tmp or ROOT)


def errors(**kw) -> list[str]:
    with pytest.raises(ConfigError) as e:
        config(**kw)
    return e.value.errors


def test_defaults():
    cfg = config()
    o, d = cfg.ocpp, cfg.device("charger")
    assert (o.bind, o.port, o.security_profile, o.fallback_current_a, o.id_tokens) == ("0.0.0.0", 8887, 0, 6.0, ())
    assert (d.charge_point_id, d.rate_unit, d.evse, d.connector, d.host) == ("WB-0042", "A", None, None, None)


def test_a_password_file_and_the_evse(tmp_path):
    (tmp_path / "pw").write_text("secret-of-16-chars\n")
    cfg = config({"password_file": "pw", "evse": 2, "phases": 1, "rate_unit": "W"},
                 {"security_profile": 1, "id_tokens": ["04A1B2C3"]}, tmp=tmp_path)
    d = cfg.device("charger")
    assert d.password_file == tmp_path / "pw" and (d.evse, d.phases, d.rate_unit) == (2, 1, "W")
    assert cfg.ocpp.id_tokens == ("04A1B2C3",)


def test_the_ocpp_profile_needs_the_ocpp_transport():
    data = copy.deepcopy(BASE)
    data["devices"]["charger"]["profile"] = "ocpp"
    with pytest.raises(ConfigError) as e:
        parse_config(data, base_dir=ROOT)
    assert 'devices.charger.transport: "tcp" does not fit profile "ocpp"' in e.value.errors[0]


@pytest.mark.parametrize("kw,expected", [
    ({"ocpp": False}, 'transport "ocpp" needs an [ocpp] table'),
    ({"charger": {"host": "10.0.0.2"}}, "devices.charger.host: unknown key"),
    ({"charger": {"charge_point_id": "a/b"}}, 'devices.charger.charge_point_id: "a/b" is not a charge point id'),
    ({"charger": {"profile": "sunspec"}}, "devices.charger.profile"),
    ({"charger": {"role": "meter"}}, "devices.charger.role"),
    ({"charger": {"connector": 1, "evse": 1}}, "give connector (OCPP 1.6) or evse (OCPP 2.x), not both"),
    ({"charger": {"password_file": "nope"}}, "is not a readable password file (no such file"),
    ({"ocpp": {"security_profile": 1}}, "devices.charger.password_file: missing: security profile 1"),
    ({"ocpp": {"security_profile": 2}}, "ocpp.tls_cert_file: missing"),
    ({"ocpp": {"security_profile": 3, "tls_cert_file": "config.toml", "tls_key_file": "config.toml"}},
     "ocpp.tls_ca_file: missing"),
    ({"ocpp": {"security_profile": 4}}, "ocpp.security_profile"),
    ({"ocpp": {"port": 0}}, "ocpp.port: 0 is not a TCP port"),
    ({"ocpp": {"fallback_current_a": 3}}, "ocpp.fallback_current_a: 3 is below the 6 A AC minimum"),
    ({"ocpp": {"fallback_current_a": float("nan")}}, "ocpp.fallback_current_a"),
    ({"ocpp": {"id_tokens": "abc"}}, "ocpp.id_tokens"),
    ({"ocpp": {"bogus": 1}}, "ocpp.bogus: unknown key"),
])
def test_mistakes_are_named(kw, expected):
    assert any(expected in e for e in errors(**kw)), errors(**kw)
