"""hal_machine's USB serial path under the MicroPython unix port, on real select.poll and real
stdin/stdout (pipes): bytes in and out, and the heap allocated after the first call.
micropython mp_serial_check.py REPO_ROOT < frames  -> frames echoed on stdout, a report on stderr
"""
import sys

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge")
sys.path.insert(0, root + "/tests/firmware_bridge/fake_machine")

from bridge_case_util import alloc_bytes  # noqa: E402
from firmware_bridge import config, hal_machine  # noqa: E402

hal = hal_machine.MachineHal(dict(config.DEFAULTS))
buf = bytearray(16)
got = bytearray()
n = [0]


def read():
    n[0] = hal.serial_read_into(buf)


first = bytearray(1)
got.extend(first[:hal.serial_read_into(first)])  # first calls allocate the poll result once
hal.serial_room()
read_alloc = 0
while True:
    read_alloc += alloc_bytes(read)
    if not n[0]:
        break
    got.extend(buf[:n[0]])
write_alloc = 0
for off in range(0, len(got), 8):
    m = min(8, len(got) - off)
    write_alloc += alloc_bytes(lambda: hal.serial_write(got, off, m))
room_alloc = alloc_bytes(lambda: hal.serial_room())
sys.stderr.write("read %d alloc_read %d alloc_write %d alloc_room %d\n"
                 % (len(got), read_alloc, write_alloc, room_alloc))
