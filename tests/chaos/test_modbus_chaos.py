"""The chaos suite on Modbus: every fault the proxy can make, on each device, with the safety
monitor watching the simulated home throughout. Meter and charger faults must reach the safe
state (0 W) within the staleness bound; every fault must recover, log a handful of lines (not
one per poll), raise no traceback and break no invariant."""
from __future__ import annotations

import pytest

from tests.chaos.faultproxy import MODES
from tests.chaos.rig import LOOP_S, SPEEDUP, TIMEOUT_S, ChaosRig
from tests.chaos.scenarios import clock_step, modbus_fault, table_row

# stale after 3 polls plus one request timeout (agent settings), then one loop to write 0 W;
# two loops more for a loaded machine (a tick's own run time counts SPEEDUP times on this clock)
SAFE_BOUND_S = 3 * LOOP_S + TIMEOUT_S * SPEEDUP + 4 * LOOP_S
# a charger that stops answering also holds the loop in its own write (and the fall-back 0 W
# write) until the request timeout (+0.5 s margin) ends each; its own communication timeout is
# what makes it safe then, since nothing the agent writes reaches it
CHARGER_BOUND_S = SAFE_BOUND_S + 2 * (TIMEOUT_S + 0.5) * SPEEDUP
FAULTS = [m for m in MODES if m != "normal"]


@pytest.mark.parametrize("role", ["meter", "charger", "pv"])
async def test_every_modbus_fault_on_one_device(tmp_path, role):
    async with ChaosRig(tmp_path) as rig:
        outcomes = [await modbus_fault(rig, role, mode, fault_s=15.0) for mode in FAULTS]
    report = "\n".join(table_row(o) for o in outcomes)
    for o in outcomes:
        assert o.ok, report
        assert o.log_lines <= 6, report
        if role != "pv":
            assert o.time_to_safe_s <= (SAFE_BOUND_S if role == "meter" else CHARGER_BOUND_S), report
        else:
            assert o.time_to_safe_s is None, report       # a PV fault never stops the car


async def test_clock_steps_back_and_forth(tmp_path):
    async with ChaosRig(tmp_path) as rig:
        outcomes = [await clock_step(rig, offset_s) for offset_s in (-3600.0, 3600.0, -400 * 86400.0, 400 * 86400.0)]
    report = "\n".join(table_row(o) for o in outcomes)
    assert all(o.ok for o in outcomes), report


async def test_discharging_car_meter_dies_then_reserve_reached(tmp_path):
    from tests.chaos.scenarios import discharge_faults
    async with ChaosRig(tmp_path) as rig:
        outcomes = await discharge_faults(rig)
    report = "\n".join(table_row(o) for o in outcomes)
    assert len(outcomes) == 2 and all(o.ok for o in outcomes), report
    assert outcomes[0].time_to_safe_s <= SAFE_BOUND_S, report
