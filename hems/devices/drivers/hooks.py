"""Per-profile quirks that data alone cannot say. A hook edits the decoded values of one read."""
from __future__ import annotations

from typing import Callable

from hems.domain import ChargerState

Hook = Callable[[dict, ChargerState], dict]


def _none(values: dict, state: ChargerState) -> dict:
    return values


def _wallbox_quasar(values: dict, state: ChargerState) -> dict:
    """The Quasar's SoC register reads 0 while it is not transferring power, and while the car
    has not told it (yet): that is not a SoC. No car's BMS lets it reach 0 %, so 0 never is one."""
    if values.get("soc_pct") == 0:
        values = {**values, "soc_pct": None}
    return values


HOOKS: dict[str, Hook] = {"none": _none, "wallbox_quasar": _wallbox_quasar}
