"""hal_machine's own logic under MicroPython with a recording `machine` stand-in.
micropython mp_machine_check.py REPO_ROOT  -> prints OK or raises."""
import sys

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge/fake_machine")

import machine  # noqa: E402
from firmware_bridge import config, hal_machine  # noqa: E402
from firmware_bridge.bridge import Bridge  # noqa: E402

cfg = dict(config.DEFAULTS)
hal = hal_machine.MachineHal(cfg)
pins = machine.Pin.pins
P = hal_machine.PINS
assert machine.PWM.last.f == 1000 and machine.PWM.last.duty == 65535     # boots at +12 V
assert pins[P["relay"]].value() == 0
assert pins[P["zero_cross"]].hard                                         # hard IRQ

zc = pins[P["zero_cross"]].handler
for _ in range(5):
    zc(None)
out = []
hal.take_crossings(out)
assert len(out) == 5 and all(isinstance(t, int) for t in out)
for _ in range(hal_machine.RING + 10):                                    # overrun: newest kept
    zc(None)
out = []
hal.take_crossings(out)
assert len(out) == hal_machine.RING
out = []
hal.take_crossings(out)
assert out == []

pins[P["s0"]].handler(None)
assert hal.pulses.count == 1

machine.ADC.samples = [32768 + 32768 * 9000 // 12500, 32768 - 32768 * 12000 // 12500]
high, low = hal.read_pilot_mv()
assert abs(high - 9000) < 5 and abs(low + 12000) < 5, (high, low)

hal.set_pilot_duty(266)
assert machine.PWM.last.duty == 266 * 65535 // 1000
hal.set_pilot_duty(1000)
assert machine.PWM.last.duty == 65535
hal.set_relay(True)
assert pins[P["relay"]].value() == 1
pins[P["relay_fb"]].value(0)
assert hal.relay_feedback() is True

pins[P["relay_fb"]].value(1)
hal.set_relay(False)
bridge = Bridge(hal, cfg)
for _ in range(50):
    bridge.step()
assert machine.WDT.feeds >= 50 and bridge.faults == 0
print("OK")
