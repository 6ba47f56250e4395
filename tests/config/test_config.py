"""config.toml validation: exact messages for bad values, unknown keys, all errors at once."""
from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from datetime import time
from pathlib import Path

import pytest

from hems.config import PROFILES_DIR, ConfigError, known_profiles, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.toml"
DELETE = object()


def example() -> dict:
    with EXAMPLE.open("rb") as f:
        return tomllib.load(f)


def mutated(changes: dict[str, object]) -> dict:
    data = copy.deepcopy(example())
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def errors_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="test", base_dir=ROOT)
    return info.value.errors


BAD = [
    ({"devices.charger.port": 70000}, "devices.charger.port: 70000 is not a TCP port (1-65535)"),
    ({"devices.meter.unit": 0}, "devices.meter.unit: 0 is not a Modbus unit id (1-247)"),
    ({"devices.meter.role": "grid"}, 'devices.meter.role: "grid" is not "meter", "pv" or "charger"'),
    ({"devices.pv.profile": "fronius-x"},   # the list is read from hems/devices/profiles/ at validation
     'devices.pv.profile: "fronius-x" is not a known profile (' + ", ".join(f'"{p}"' for p in known_profiles()[:-1])
     + (" or " if len(known_profiles()) > 1 else "") + f'"{known_profiles()[-1]}")'),
    ({"devices.pv.transport": "udp"}, 'devices.pv.transport: "udp" is not "tcp", "rtu", "bridge" or "ocpp"'),
    ({"devices.meter.poll_interval_s": 0}, "devices.meter.poll_interval_s: 0 is not a duration in s (0.1-3600)"),
    ({"devices.meter.baudrate": 9600}, 'devices.meter.baudrate: does not apply to transport "tcp"'),
    ({"site.phases": 2}, "site.phases: 2 is not 1 or 3"),
    ({"site.phases": "3"}, 'site.phases: "3" is not 1 or 3'),
    ({"site.voltage_v": True}, "site.voltage_v: true is not a voltage in V (100-480)"),
    ({"site.latitude": 91}, "site.latitude: 91 is not a latitude in degrees (-90 to 90)"),
    ({"site.timezone": "Europe/Pariss"}, 'site.timezone: "Europe/Pariss" is not an IANA time zone, e.g. "Europe/Paris"'),
    ({"site.main_fuse_a": DELETE}, "site.main_fuse_a: missing: expected a fuse rating in A (1-1000)"),
    ({"ev.charge_efficiency": 1.2}, "ev.charge_efficiency: 1.2 is not an efficiency in (0, 1]"),
    ({"ev.discharge_efficiency": 0}, "ev.discharge_efficiency: 0 is not an efficiency in (0, 1]"),
    ({"ev.default_departure": "7h30"}, 'ev.default_departure: "7h30" is not a local time "HH:MM"'),
    ({"ev.default_departure": "25:00"}, 'ev.default_departure: "25:00" is not a local time "HH:MM"'),
    ({"ev.min_charge_w": 1000},
     "ev.min_charge_w: 1000 is below the 6 A AC minimum (1380 W on one phase at 230 V; 4140 W on 3 phases)"),
    ({"ev.min_charge_w": 12000}, "ev.min_charge_w: 12000 is above max_charge_w (11000)"),
    ({"ev.max_discharge_w": 20000},
     "ev.max_discharge_w: 20000 exceeds the main fuse (3 x 25 A x 230 V = 17250 W)"),
    ({"ev.reserve_pct": 100}, "ev.reserve_pct: 100 is not below max_soc_pct (100)"),
    ({"ev.weekly.fri": {"departure": "08:00", "target_soc_pct": 120}},
     "ev.weekly.fri.target_soc_pct: 120 is not a percentage (0-100)"),
    ({"ev.weekly.friday": {"departure": "08:00", "target_soc_pct": 80}},
     'ev.weekly.friday: unknown key; did you mean "fri"?'),
    ({"tariff.kind": "flat"}, 'tariff.kind: "flat" is not "fixed", "tou" or "dynamic"'),
    ({"tariff.prices_csv": "nope.csv"},
     f'tariff.prices_csv: "nope.csv" is not a CSV file of day-ahead prices (no such file: {ROOT / "nope.csv"})'),
    ({"tariff.export_price_per_kwh": 0.05}, 'tariff.export_price_per_kwh: applies only with export = "fixed"'),
    ({"devices.charger.comm_timeout_s": 1}, "devices.charger.comm_timeout_s: 1 is not a duration in s (5-3600)"),
    ({"devices.charger.connector": 0}, "devices.charger.connector: 0 is not a connector number (1-9)"),
    ({"web.bind": "192.168.1"},
     'web.bind: "192.168.1" is not an IP address to listen on, e.g. "127.0.0.1", or "0.0.0.0" for the home network'),
    ({"web.port": 0}, "web.port: 0 is not a TCP port (1-65535)"),
    ({"web.readonly_lan": "yes"}, 'web.readonly_lan: "yes" is not true or false'),
    ({"planner.interval_s": 700}, "planner.interval_s: 700 is not an interval in s (300, 600, 900, 1800 or 3600)"),
    ({"sim.start": "2023-01-01"}, 'sim.start: "2023-01-01" is not a date "YYYY-MM-DD" from 2024-03-01 to 2025-02-26'),
    ({"aggregator": {"enabled": True, "host": "broker", "site_id": "a/b", "auth_key_file": "config.toml"}},
     'aggregator.site_id: "a/b" is not an id of letters, digits, _ and - (1-64 characters)'),
    ({"aggregator": {"enabled": True, "host": "broker", "site_id": "s1"}},
     "aggregator.auth_key_file: missing: expected a readable file"),
    ({"aggregator": {"enabled": True, "host": "b", "site_id": "s1", "auth_key_file": "config.toml",
                     "topic_prefix": "hems/#"}},
     'aggregator.topic_prefix: "hems/#" is not an MQTT topic prefix without wildcards or outer slashes, e.g. "hems/v1"'),
    ({"site.phasse": 3}, 'site.phasse: unknown key; did you mean "phases"?'),
    ({"colour": "blue"}, None),
    ({"devices.meter.role": "charger"}, 'devices: no device with role "meter" (exactly one is required)\n'
     'devices: 2 devices with role "charger" (meter, charger); exactly one is allowed'),
    ({"devices.meter2": {"role": "meter", "profile": "sunspec", "transport": "tcp", "host": "127.0.0.1", "port": 15030}},
     'devices: 2 devices with role "meter" (meter, meter2); exactly one is allowed'),
    ({"devices.pv.port": 15020},
     "devices: meter and pv both use 127.0.0.1:15020 unit 1 (each device needs its own address)"),
    ({"ev": DELETE}, "ev: missing: expected a table [ev]"),
]


@pytest.mark.parametrize("changes, message", BAD, ids=[str(list(c)[0]) for c, _ in BAD])
def test_bad_config_names_key_value_and_expectation(changes, message):
    errors = errors_of(mutated(changes))
    if message is None:  # unknown top-level key: the message lists what is known
        assert len(errors) == 1 and errors[0].startswith("colour: unknown key")
        return
    assert errors == message.split("\n")


def test_profiles_are_read_from_the_folder_at_validation_time():
    stems = {p.stem for p in PROFILES_DIR.glob("*.toml")}
    assert set(known_profiles()) == stems | {"sunspec", "bridge_pilot", "bridge_s0", "ocpp"}
    assert known_profiles()[0] == "sunspec"
    for name in set(known_profiles()) - {"bridge_pilot", "bridge_s0", "ocpp"}:
        parse_config(mutated({"devices.meter.profile": name}), base_dir=ROOT)


BRIDGE = {"serial_port": "/dev/ttyACM0"}
BRIDGE_CASES = [
    ({"devices.charger": {"role": "charger", "profile": "bridge_pilot", "transport": "bridge"}},
     ['devices.charger: transport "bridge" needs a [bridge] table with its serial_port']),
    ({"bridge": BRIDGE, "devices.charger": {"role": "charger", "profile": "bridge_s0", "transport": "bridge"}},
     ['devices.charger.role: "charger" does not fit profile "bridge_s0" (role "meter")']),
    ({"bridge": BRIDGE, "devices.charger": {"role": "charger", "profile": "sunspec", "transport": "bridge"}},
     ['devices.charger.profile: "sunspec" is not a bridge device ("bridge_pilot" or "bridge_s0")']),
    ({"bridge": BRIDGE, "devices.charger": {"role": "charger", "profile": "bridge_pilot", "transport": "tcp",
                                            "host": "10.0.0.2"}},
     ['devices.charger.transport: "tcp" does not fit profile "bridge_pilot" (use "bridge")']),
    ({"bridge": {**BRIDGE, "heartbeat_interval_s": 5}, "devices.charger": {
        "role": "charger", "profile": "bridge_pilot", "transport": "bridge", "port": 502}},
     ['devices.charger.port: does not apply to transport "bridge"',
      "bridge.heartbeat_interval_s: 5 must be shorter than heartbeat_timeout_s (3)"]),
    ({"bridge": {**BRIDGE, "heartbeat_interval_s": "1s"}},      # a bad value is reported, not compared
     ['bridge.heartbeat_interval_s: "1s" is not a duration in s (0.1-60)']),
]


@pytest.mark.parametrize("changes,expected", BRIDGE_CASES)
def test_bridge_devices(changes, expected):
    assert sorted(errors_of(mutated(changes))) == sorted(expected)


def test_bridge_charger_and_s0_meter_load():
    cfg = parse_config(mutated({
        "bridge": {**BRIDGE, "s0_imp_per_kwh": 1000, "max_current_a": 32},
        "devices.charger": {"role": "charger", "profile": "bridge_pilot", "transport": "bridge"}}), base_dir=ROOT)
    assert cfg.device("charger").transport == "bridge"
    assert cfg.bridge.s0_imp_per_kwh == 1000 and cfg.bridge.max_current_a == 32


def test_rtu_device_and_shared_bus_settings():
    data = mutated({"devices.meter": {"role": "meter", "profile": "sunspec", "transport": "rtu",
                                      "serial_port": "/dev/ttyUSB0", "unit": 2, "parity": "E"},
                    "devices.pv": {"role": "pv", "profile": "sunspec", "transport": "rtu",
                                   "serial_port": "/dev/ttyUSB0", "unit": 3, "parity": "N"}})
    assert errors_of(data) == ["devices: meter and pv share /dev/ttyUSB0 but not its baudrate, parity and "
                               "stopbits (one bus has one setting)"]
    data["devices"]["pv"]["parity"] = "E"
    cfg = parse_config(data, base_dir=ROOT)
    meter = cfg.device("meter")
    assert (meter.transport, meter.serial_port, meter.baudrate, meter.parity, meter.stopbits, meter.unit) == \
        ("rtu", "/dev/ttyUSB0", 9600, "E", 1, 2)
    assert meter.host is None and meter.port is None


def test_all_errors_reported_at_once():
    errors = errors_of(mutated({"devices.charger.port": 70000, "site.phases": 2, "ev.charge_efficiency": 1.5,
                                "web.bogus": 1, "tariff.kind": "flat"}))
    assert len(errors) == 5, errors
    assert {e.split(":")[0] for e in errors} == {"devices.charger.port", "site.phases", "ev.charge_efficiency",
                                                 "web.bogus", "tariff.kind"}


def test_toml_native_times_and_dates(tmp_path):
    text = EXAMPLE.read_text().replace('default_departure = "07:30"', "default_departure = 06:45:00") \
        .replace('start = "2024-06-03"', "start = 2024-09-02")
    path = tmp_path / "config.toml"
    path.write_text(text.replace('prices_csv = "hems/data/', f'prices_csv = "{ROOT}/hems/data/'))
    cfg = load_config(path)
    assert cfg.ev.default_departure == time(6, 45) and cfg.sim.start == "2024-09-02"
    assert cfg.storage.data_dir == tmp_path / "var"                  # relative to the config file
    path.write_text(path.read_text().replace("start = 2024-09-02", "start = 2023-09-02"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.errors == ['sim.start: 2023-09-02 is not a date "YYYY-MM-DD" from 2024-03-01 to 2025-02-26']


def test_the_hems_command_routes_check_config(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "hems.cli", "check-config", str(EXAMPLE)],
                        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: "), ok.stderr[-2000:]


def test_tou_periods_must_cover_the_week_once():
    periods = [{"days": "weekdays", "start": "07:00", "end": "23:00", "price_per_kwh": 0.30},
               {"days": "all", "start": "22:00", "end": "07:00", "price_per_kwh": 0.18}]
    data = mutated({"tariff": {"kind": "tou", "export_price_per_kwh": 0.05, "periods": periods}})
    errors = errors_of(data)
    assert "tariff.periods: sat 07:00-22:00 is not covered by any period" in errors
    assert "tariff.periods: mon 22:00-23:00 is covered by more than one period" in errors
    periods[0].update(days="all", end="22:00")
    cfg = parse_config(data, base_dir=ROOT)
    assert [p.price_per_kwh for p in cfg.tariff.periods] == [0.30, 0.18]
    assert cfg.tariff.periods[1].start == time(22) and cfg.tariff.periods[1].end == time(7)


def test_example_config_loads_with_units_and_resolved_paths():
    cfg = load_config(EXAMPLE)
    assert cfg.site.phases == 3 and cfg.site.fuse_power_w == 17250
    assert [d.port for d in cfg.devices] == [15020, 15021, 15022]
    assert {d.profile for d in cfg.devices} == {"sunspec"}
    assert cfg.ev.min_charge_w == 4140 and cfg.ev.max_charge_w == 11000 and cfg.ev.capacity_wh == 60000
    assert cfg.tariff.kind == "dynamic" and cfg.tariff.import_markup_per_kwh == 0.15
    assert cfg.tariff.prices_csv == ROOT / "hems/data/nl_dayahead_2023_2024_hourly.csv"
    assert cfg.storage.data_dir == ROOT / "var"
    assert (cfg.web.bind, cfg.web.port, cfg.web.readonly_lan) == ("127.0.0.1", 8080, False)
    assert cfg.aggregator is None and cfg.sim is not None and cfg.sim.speedup == 60
    assert cfg.device("charger").comm_timeout_s == 30 and cfg.device("meter").comm_timeout_s is None
    assert cfg.ev.departure_for(0).departure == time(7, 30)       # Monday: the default
    assert cfg.ev.departure_for(6).target_soc_pct == 60            # Sunday: its own
    with pytest.raises(AttributeError):
        cfg.site.phases = 1                                        # frozen


def test_aggregator_section_defaults(tmp_path):
    (tmp_path / "site.key").write_text("secret")
    data = mutated({"aggregator": {"host": "broker.local", "site_id": "s-1", "auth_key_file": "site.key",
                                   "tls": True}, "tariff.prices_csv": str(EXAMPLE.parent / "hems/data/"
                                                                          "nl_dayahead_2023_2024_hourly.csv")})
    cfg = parse_config(data, base_dir=tmp_path)
    a = cfg.aggregator
    assert (a.enabled, a.port, a.topic_prefix, a.auth) == (True, 8883, "hems/v1", "hmac")
    assert a.auth_key_file == tmp_path / "site.key"


def _check(path: Path) -> subprocess.CompletedProcess:
    # `hems check-config FILE` routes to this module; run it the same way, as its own process
    return subprocess.run([sys.executable, "-m", "hems.config_cli", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_cli_exit_codes(tmp_path):
    ok = _check(EXAMPLE)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: ")
    bad = tmp_path / "config.toml"
    bad.write_text(EXAMPLE.read_text().replace("port = 15022", "port = 70000")
                   .replace("phases = 3 ", "phasse = 3 "))
    res = _check(bad)
    assert res.returncode == 1
    assert "devices.charger.port: 70000 is not a TCP port (1-65535)" in res.stderr
    assert 'site.phasse: unknown key; did you mean "phases"?' in res.stderr
    assert "site.phases: missing: expected 1 or 3" in res.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nphases = 3\n")
    res = _check(broken)
    assert res.returncode == 1 and "not valid TOML" in res.stderr
    res = _check(tmp_path / "absent.toml")
    assert res.returncode == 1 and "file not found" in res.stderr
