"""Run the firmware test cases (test_bridge_firmware.py, test_bridge_behaviour.py,
test_bridge_faults.py) under MicroPython: micropython mp_runner.py REPO_ROOT [name ...]

Prints "PASS name" or "FAIL name: error" per case, passing MEASURE lines through, then "DONE".
"""
import sys
import time

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge")

import test_bridge_behaviour  # noqa: E402
import test_bridge_faults  # noqa: E402
import test_bridge_firmware  # noqa: E402

wanted = sys.argv[2:]
names = []
for module in (test_bridge_firmware, test_bridge_behaviour, test_bridge_faults):
    for n in sorted(dir(module)):
        if n.startswith("test_") and (not wanted or n in wanted):
            names.append((n, getattr(module, n)))
for name, case in names:
    t0 = time.ticks_ms()
    try:
        case()
        print("PASS " + name)
        print("TIME %s %d" % (name, time.ticks_diff(time.ticks_ms(), t0)))
    except Exception as exc:  # report every case, never stop
        print("FAIL %s: %s %s" % (name, type(exc).__name__, exc))
        sys.print_exception(exc)
print("DONE %d" % len(names))
