"""Every shipped profile loads; a broken profile is refused with file and key named."""
import pytest

from hems.devices.profiles import (
    ProfileError, available_profiles, load_profile, parse_profile,
)
from hems.devices.profiles.loader import PROFILE_DIR
from hems.domain import ChargerState

SHIPPED = [p.stem for p in PROFILE_DIR.glob("*.toml")]


def test_the_catalogue_is_there():
    for name in ("sdm630", "sdm120", "sunspec_meter", "sunspec_pv", "sunspec_charger",
                 "wallbox_quasar", "evtec_bidipro10"):
        assert name in available_profiles()
    assert "sunspec" in available_profiles()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profile_loads(name):
    p = load_profile(name)
    assert p.role in ("meter", "pv", "charger")
    assert p.points
    if p.role == "charger":
        assert "setpoint_w" in p.controls and p.states


@pytest.mark.parametrize("role", ["meter", "pv", "charger"])
def test_sunspec_alias_picks_the_role(role):
    assert load_profile("sunspec", role=role).name == f"sunspec_{role}"


def test_chargers_with_a_timeout_register_have_a_heartbeat():
    for name in ("sunspec_charger", "wallbox_quasar", "evtec_bidipro10"):
        assert load_profile(name).heartbeat is not None


@pytest.mark.parametrize("name,states", [("wallbox_quasar", range(12)), ("evtec_bidipro10", range(13))])
def test_vendor_chargers_map_every_documented_state(name, states):
    assert set(load_profile(name).states) == set(states)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_profile_names_its_sources(name):
    text = (PROFILE_DIR / f"{name}.toml").read_text()
    header = text[:text.index("[profile]")]
    assert "Source" in header, f"{name}.toml: no sources in the header comment"


def test_multi_connector_profile_moves_connector_registers_only():
    one = load_profile("evtec_bidipro10")
    nine = load_profile("evtec_bidipro10", connector=9)
    assert (one.connector, nine.connector) == (1, 9)
    for name, point in one.points.items():
        assert nine.points[name].register == point.register + 800
    assert nine.controls["setpoint_w"].register == one.controls["setpoint_w"].register + 800
    assert nine.heartbeat.point.register == one.heartbeat.point.register == 42   # charge point
    assert load_profile("evtec_bidipro10", connector=1) == one


def test_connector_out_of_range_or_not_multi_connector():
    with pytest.raises(ProfileError, match="connector 10 is not in 1..9"):
        load_profile("evtec_bidipro10", connector=10)
    with pytest.raises(ProfileError, match="has one connector"):
        load_profile("wallbox_quasar", connector=2)
    assert load_profile("wallbox_quasar", connector=1) == load_profile("wallbox_quasar")


def test_bad_connectors_table_is_named():
    data = {"profile": {"role": "charger", "connectors": {"stride": 0, "count": 3, "x": 1}},
            "points": {"ev_power_w": {"register": 110, "type": "float32", "unit": "W"},
                       "state": {"register": 100, "type": "int32"}},
            "states": {"1": "no_car"},
            "control": {"setpoint_w": {"register": 186, "type": "int32", "unit": "W"}}}
    with pytest.raises(ProfileError) as exc:
        parse_profile(data, source="x.toml", name="x")
    assert "x.toml: profile.connectors.stride: 0 is not a positive" in str(exc.value)
    assert "x.toml: profile.connectors.x: unknown key" in str(exc.value)


def test_role_mismatch_and_unknown_name():
    with pytest.raises(ProfileError, match="for role 'meter', not 'charger'"):
        load_profile("sdm630", role="charger")
    with pytest.raises(ProfileError, match="unknown device profile 'sdm999'"):
        load_profile("sdm999")


GOOD = {
    "profile": {"role": "meter", "title": "t"},
    "points": {"grid_power_w": {"register": 12, "type": "float32", "unit": "W"}},
}


def _with(path: str, value):
    import copy
    doc = copy.deepcopy(GOOD)
    keys = path.split(".")
    t = doc
    for k in keys[:-1]:
        t = t.setdefault(k, {})
    t[keys[-1]] = value
    return doc


@pytest.mark.parametrize("path,value,message", [
    ("profile.role", "toaster", "x.toml: profile.role: 'toaster' is not one of"),
    ("points.grid_power_w.type", "int12", "x.toml: points.grid_power_w.type: 'int12' is not one of"),
    ("points.grid_power_w.unit", "kW", "points.grid_power_w.unit: 'kW' but grid_power_w is in 'W'"),
    ("points.grid_power_w.function", "coil", "points.grid_power_w.function: 'coil' is not"),
    ("points.grid_power_w.word_order", "middle", "word_order: 'middle' is not"),
    ("points.grid_power_w.sign", 2, "points.grid_power_w.sign: 2 is not 1 or -1"),
    ("points.grid_power_w.register", 70000, "register: 70000 is not a Modbus address"),
    ("points.grid_power_w.regster", 1, "points.grid_power_w.regster: unknown key"),
    ("points.grid_power_w.scale", "ten", "points.grid_power_w.scale: 'ten' is not a float"),
    ("points.power", {"register": 1}, "points.power: unknown point for a meter"),
    ("profile.hook", "magic", "profile.hook: 'magic' is not one of"),
    ("extra", {}, "x.toml: .extra: unknown key"),
])
def test_bad_profile_names_file_and_key(path, value, message):
    with pytest.raises(ProfileError) as err:
        parse_profile(_with(path, value), source="x.toml", name="x")
    assert message in str(err.value)


def test_all_errors_at_once_and_required_points():
    doc = {"profile": {"role": "charger"},
           "points": {"soc_pct": {"register": 1, "unit": "kW"}}}
    with pytest.raises(ProfileError) as err:
        parse_profile(doc, source="c.toml", name="c")
    text = str(err.value)
    for expected in ("points.ev_power_w: is required", "points.state: is required",
                     "soc_pct.unit", "control.setpoint_w: a charger profile needs a setpoint",
                     "states: a charger profile needs a [states] table"):
        assert expected in text


def test_point_needs_one_address():
    doc = _with("points.grid_power_w", {"type": "int16", "unit": "W"})
    with pytest.raises(ProfileError, match="needs either `register` or `model` \\+ `offset`"):
        parse_profile(doc, source="x.toml", name="x")


def test_states_are_checked(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[profile]\nrole = "charger"\n[points.ev_power_w]\nregister = 1\ntype = "int16"\n'
                 'unit = "W"\n[points.state]\nregister = 2\n[states]\n"1" = "flying"\n'
                 '[control.setpoint_w]\nregister = 3\ntype = "int16"\nunit = "W"\n')
    with pytest.raises(ProfileError, match="mine.toml: states.1: 'flying' is not one of"):
        load_profile(f)
    f.write_text(f.read_text().replace('"flying"', '"charging"'))
    assert load_profile(f).states == {1: ChargerState.CHARGING}


def test_not_toml(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[profile\n")
    with pytest.raises(ProfileError, match="broken.toml: not valid TOML"):
        load_profile(f)
