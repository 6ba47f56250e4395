"""Heap figures of the bridge firmware, run under MicroPython (both ports) by
bench/firmware_bridge.py: micropython bench/firmware_bridge_mp.py REPO_ROOT
Prints "RESULT key value" lines.
"""
import gc
import sys

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge")

from bridge_case_util import alloc_bytes  # noqa: E402
from firmware_bridge import protocol as P  # noqa: E402
from firmware_bridge.bridge import Bridge  # noqa: E402
from test_bridge_faults import QuietHal  # noqa: E402


def result(key, value):
    print("RESULT %s %s" % (key, value))


gc.collect()
base = gc.mem_alloc()
hal = QuietHal()
bridge = Bridge(hal)
for _ in range(1000):
    hal.ms += 1
    bridge.step()
gc.collect()
result("heap_live_bytes", gc.mem_alloc() - base)


def steps(n):
    def run():
        for _ in range(n):
            hal.ms += 1
            bridge.step()
    return run


bridge._last_sample_ms = bridge._last_report_ms = hal.ms
result("alloc_per_idle_step", alloc_bytes(steps(19)) // 19)
sample = alloc_bytes(steps(20)) - 0          # 20 steps include one pilot sample
result("alloc_per_pilot_sample", sample)
heartbeat = P.message(P.HEARTBEAT, 1)
set_pilot = P.message(P.SET_PILOT, 2, (160,))


def frame(data):
    def run():
        for i in range(len(data)):
            hal.rx[i] = data[i]
        hal.rx_n = len(data)
        hal.ms += 1
        bridge.step()
    return run


result("alloc_per_heartbeat_frame", alloc_bytes(frame(heartbeat)))
result("alloc_per_set_pilot_frame", alloc_bytes(frame(set_pilot)))


def status():
    hal.ms += 1
    bridge.send_status(hal.ms)


result("alloc_per_status_frame", alloc_bytes(status))

# heap high-water: the most live data seen (collect every 500 steps) plus the largest
# allocation of a single step, over 20 s of the same traffic
live_max = 0
step_max = 0
gc.collect()
gc.disable()
for ms in range(20000):
    if ms % 500 == 0:
        gc.enable()
        gc.collect()
        gc.disable()
        live = gc.mem_alloc() - base
        if live > live_max:
            live_max = live
        data = heartbeat if ms % 10000 else set_pilot
        for i in range(len(data)):
            hal.rx[i] = data[i]
        hal.rx_n = len(data)
    a = gc.mem_alloc()
    hal.ms += 1
    bridge.step()
    d = gc.mem_alloc() - a
    if d > step_max:
        step_max = d
gc.enable()
result("heap_live_max_bytes", live_max)
result("alloc_max_one_step", step_max)
result("heap_high_water_bytes", live_max + step_max)
# one simulated minute at a 1 kHz loop with a healthy host: heartbeat every 500 ms,
# a new pilot current every 10 s, STATUS every 500 ms; GC off, so the allocation adds up
frames = 0


def minute():
    global frames
    for ms in range(60000):
        if ms % 500 == 0:
            data = heartbeat if ms % 10000 else set_pilot
            for i in range(len(data)):
                hal.rx[i] = data[i]
            hal.rx_n = len(data)
            frames += 1
        hal.ms += 1
        bridge.step()


gc.collect()
total = alloc_bytes(minute)
result("alloc_bytes_per_s_typical", total // 60)
print("DONE")
