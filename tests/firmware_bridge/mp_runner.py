"""Run the firmware test cases under MicroPython: micropython mp_runner.py REPO_ROOT [name ...]

Prints "PASS name" or "FAIL name: error" per case, passing MEASURE lines through, then "DONE".
"""
import sys

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge")

import test_bridge_firmware as cases  # noqa: E402

wanted = sys.argv[2:]
names = sorted(n for n in dir(cases) if n.startswith("test_") and (not wanted or n in wanted))
for name in names:
    try:
        getattr(cases, name)()
        print("PASS " + name)
    except Exception as exc:  # report every case, never stop
        print("FAIL %s: %s %s" % (name, type(exc).__name__, exc))
        sys.print_exception(exc)
print("DONE %d" % len(names))
