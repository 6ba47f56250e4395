"""Our SunSpec model layouts against pysunspec2's model definitions (the SunSpec Alliance's)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sunspec2

from hems.devices.sim.sunspec_models import MODELS

_JSON = Path(sunspec2.__file__).parent / "models" / "json"


def _reference_points(model_id: int) -> list[tuple[str, str, int, str | None, bool]]:
    group = json.loads((_JSON / f"model_{model_id}.json").read_text())["group"]
    out = [(p["name"], p["type"], p["size"], p.get("sf"), p.get("access") == "RW") for p in group["points"]]
    for sub in group.get("groups", []):
        out += [(f"{sub['name']}.{p['name']}", p["type"], p["size"], p.get("sf"), p.get("access") == "RW")
                for p in sub["points"]]
    return out


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_layout_matches_pysunspec2(model_id: int) -> None:
    ours = [(p.name, p.type, p.size, p.sf, p.writable) for p in MODELS[model_id].points]
    assert ours == _reference_points(model_id)


def test_model_lengths() -> None:
    lengths = {mid: MODELS[mid].length for mid in (1, 103, 120, 123, 203, 701, 702, 704, 713)}
    assert lengths == {1: 66, 103: 50, 120: 26, 123: 24, 203: 105, 701: 153, 702: 50, 704: 65, 713: 7}
