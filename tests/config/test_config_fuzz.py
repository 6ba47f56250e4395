"""Any value at any key gives a Config or a ConfigError naming that key, never a crash."""
from __future__ import annotations

import copy
import tomllib
from datetime import date, time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hems.config import Config, ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
with (ROOT / "config.toml").open("rb") as f:
    EXAMPLE = tomllib.load(f)


def _paths(node: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for k, v in node.items():
        out.append(prefix + (k,))
        if isinstance(v, dict):
            out.extend(_paths(v, prefix + (k,)))
    return out


PATHS = _paths(EXAMPLE) + [("aggregator",), ("bridge",), ("tariff", "periods"), ("ev", "weekly", "mon")]
toml_values = st.recursive(
    st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
              st.booleans(), st.just(time(7, 30)), st.just(date(2024, 6, 3)), st.just("Europe/Paris"),
              st.just("07:30"), st.just("rtu"), st.just("tou"), st.just("bridge")),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from(["days", "start", "end", "price_per_kwh", "x",
                                                                "serial_port", "role"]), children, max_size=4)),
    max_leaves=6)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(st.none(), toml_values)), min_size=1, max_size=3))
def test_no_value_crashes_validation(changes):
    data = copy.deepcopy(EXAMPLE)
    for path, value in changes:
        node = data
        for key in path[:-1]:
            nxt = node.get(key)
            if not isinstance(nxt, dict):
                nxt = node[key] = {}
            node = nxt
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    try:
        cfg = parse_config(data, base_dir=ROOT)
    except ConfigError as exc:
        assert exc.errors and all(isinstance(e, str) and ": " in e for e in exc.errors)
    else:
        assert isinstance(cfg, Config)
