"""The JSON problem format: the documented example parses, bad input names the bad field."""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from hems.planner import Problem, ProblemError

EXAMPLE = {
    "interval_s": 900, "start": "2024-06-01T00:00:00+00:00",
    "import_price_per_kwh": [0.25], "export_price_per_kwh": [0.08], "pv_w": [0], "load_w": [350],
    "ev": {"capacity_wh": 60000, "soc_pct": 35.0,
           "min_charge_w": 4140, "max_charge_w": 11000, "min_discharge_w": 4140, "max_discharge_w": 11000,
           "charge_efficiency": 0.92, "discharge_efficiency": 0.92,
           "reserve_pct": 20.0, "max_soc_pct": 100.0, "plugged": [True],
           "targets": [{"index": 30, "soc_pct": 80.0}], "degradation_per_kwh": 0.02,
           "terminal_value_per_kwh": 0.0},
    "site": {"max_import_w": 17250, "max_export_w": 17250}}


def with_change(path: str, value):
    data = copy.deepcopy(EXAMPLE)
    node = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


def test_the_documented_example_parses():
    p = Problem.from_json(json.loads(json.dumps(EXAMPLE)))
    assert p.n == 1 and p.interval_s == 900 and p.capacity_wh == 60000
    assert p.floor_wh == 0.2 * 60000 and p.max_import_w == 17250
    assert list(p.target_index) == [30] and p.start.isoformat() == "2024-06-01T00:00:00+00:00"


def test_length_one_arrays_stand_for_constants():
    data = with_change("import_price_per_kwh", [0.1, 0.2, 0.3])
    p = Problem.from_json(data)
    assert p.n == 3
    np.testing.assert_allclose(p.load_w, [350, 350, 350])
    assert list(p.plugged) == [True, True, True]


def test_aggregator_bounds_accept_null_for_none():
    data = with_change("import_price_per_kwh", [0.1, 0.2])
    data["aggregator"] = {"ev_min_w": [None, 5000], "ev_fixed_w": [None, None]}
    p = Problem.from_json(data)
    assert math.isnan(p.ev_min_w[0]) and p.ev_min_w[1] == 5000


def test_arrays_are_read_only():
    p = Problem.from_json(EXAMPLE)
    with pytest.raises(ValueError):
        p.load_w[0] = 1.0


@pytest.mark.parametrize("path, value, field", [
    ("interval_s", 0, "interval_s"),
    ("interval_s", "900", "interval_s"),
    ("import_price_per_kwh", KeyError, "import_price_per_kwh"),
    ("import_price_per_kwh", [0.1, "x"], "import_price_per_kwh[1]"),
    ("ev.capacity_wh", -1, "ev.capacity_wh"),
    ("ev.soc_pct", 120, "ev.soc_pct"),
    ("ev.soc_pct", KeyError, "ev.soc_pct"),
    ("ev.charge_efficiency", 1.5, "ev.charge_efficiency"),
    ("ev.min_charge_w", 20000, "ev.min_charge_w"),
    ("ev.plugged", ["yes"], "ev.plugged"),
    ("ev.targets", [{"index": -1, "soc_pct": 80}], "ev.targets[0].index"),
    ("ev.targets", [{"index": 3, "soc": 80}], "ev.targets[0].soc"),
    ("ev.colour", "red", "ev.colour"),
    ("site.max_import_w", -5, "site.max_import_w"),
    ("start", "2024-06-01T00:00:00", "start"),
    ("start", "yesterday", "start"),
    ("interval_s", float("nan"), "interval_s"),
    ("interval_s", 10**9, "interval_s"),
    ("ev.capacity_wh", 1e12, "ev.capacity_wh"),
    ("ev.max_charge_w", 1e308, "ev.max_charge_w"),
    ("ev.discharge_efficiency", 1e-300, "ev.discharge_efficiency"),
    ("ev.targets", [{"index": 2**70, "soc_pct": 80}], "ev.targets"),
    ("pv_w", [1e300], "pv_w"),
])
def test_bad_fields_are_named(path, value, field):
    with pytest.raises(ProblemError) as err:
        Problem.from_json(with_change(path, value))
    assert err.value.field == field
    assert str(err.value).startswith(field)


def test_arrays_of_different_lengths_are_refused():
    data = with_change("import_price_per_kwh", [0.1, 0.2, 0.3])
    data["load_w"] = [1, 2]
    with pytest.raises(ProblemError) as err:
        Problem.from_json(data)
    assert err.value.field == "load_w" and "3 intervals" in str(err.value)


def test_not_an_object():
    with pytest.raises(ProblemError):
        Problem.from_json([1, 2, 3])


JUNK = [None, "x", [], {}, -1, 0, 1e308, -1e308, float("inf"), float("nan"), True, [None], [1, "a"],
        [[1]], {"a": 1}, 2**70, 0.5, 100, 1e-300, [0.1] * 5, [True] * 3]
PATHS = [("interval_s",), ("start",), ("import_price_per_kwh",), ("export_price_per_kwh",), ("pv_w",),
         ("load_w",), ("ev",), ("site",), ("aggregator",), ("soc_step_wh",)] \
    + [("ev", k) for k in EXAMPLE["ev"]] \
    + [("ev", "targets", 0, "index"), ("ev", "targets", 0, "soc_pct"), ("site", "max_import_w"),
       ("aggregator", "ev_min_w"), ("ev", "charge_efficiency_curve")]


def test_mangled_problems_give_a_problem_error_or_a_plan():
    """Random junk in random fields: a clear ProblemError or a valid plan, nothing else."""
    from hems.planner import flexibility, solve
    rng = np.random.default_rng(4)
    planned = 0
    for _ in range(400):
        data = copy.deepcopy(EXAMPLE)
        data["aggregator"] = {}
        for _ in range(int(rng.integers(1, 4))):
            path = PATHS[int(rng.integers(len(PATHS)))]
            node = data
            for key in path[:-1]:
                node = node[key] if isinstance(node, (dict, list)) and (
                    isinstance(node, list) and len(node) > key or isinstance(node, dict) and key in node) else None
                if node is None:
                    break
            if isinstance(node, (dict, list)):
                try:
                    node[path[-1]] = copy.deepcopy(JUNK[int(rng.integers(len(JUNK)))])
                except (IndexError, TypeError):
                    pass
        try:
            problem = Problem.from_json(data)
        except ProblemError:
            continue
        result = solve(problem)
        flexibility(problem, result)
        json.dumps(result.to_json())
        planned += 1
    assert planned > 20
