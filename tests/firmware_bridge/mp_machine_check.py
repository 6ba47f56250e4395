"""hal_machine's own logic under MicroPython with recording `machine` and `rp2` stand-ins.
micropython mp_machine_check.py REPO_ROOT  -> prints OK or raises."""
import sys

root = sys.argv[1]
sys.path.insert(0, root)
sys.path.insert(0, root + "/tests/firmware_bridge/fake_machine")

import machine  # noqa: E402
import micropython  # noqa: E402
import rp2  # noqa: E402
from firmware_bridge import config, hal_machine  # noqa: E402
from firmware_bridge.bridge import Bridge  # noqa: E402
from firmware_bridge.edges import COUNT_MASK  # noqa: E402

# IRQ fallback path
cfg = dict(config.DEFAULTS)
cfg["zero_cross_pio"] = False
hal = hal_machine.MachineHal(cfg)
pins = machine.Pin.pins
P = hal_machine.PINS
assert machine.PWM.last.f == 1000 and machine.PWM.last.duty == 65535     # boots at +12 V
assert pins[P["relay"]].value() == 0
assert pins[P["zero_cross"]].hard                                         # hard IRQ

zc = pins[P["zero_cross"]].handler
hal.edges._count[0] = hal.edges._count[1] = COUNT_MASK - 2                # about to wrap
micropython.heap_lock()
for _ in range(5):
    zc(None)                                                              # as a hard IRQ
micropython.heap_unlock()
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

micropython.heap_lock()
pins[P["s0"]].handler(None)
micropython.heap_unlock()
assert hal.pulses.count == 1

# the ADC capture: 60 % high at +9 V, low at -12 V, with a spike; plateaus averaged
hi_raw = 2048 + 2048 * 9000 // 12500
lo_raw = 2048 - 2048 * 12000 // 12500
wave = [hi_raw] * 150 + [lo_raw] * 100
wave[40] = 4095
rp2.DMA.wave = wave
hal.read_pilot_mv()                                   # the capture started at boot
high, low = hal.read_pilot_mv()                       # this one saw the wave
assert abs(high - 9000) < 15 and abs(low + 12000) < 15, (high, low)

hal.set_pilot_duty(266)
assert machine.PWM.last.duty == 266 * 65535 // 1000
hal.set_pilot_duty(1000)
assert machine.PWM.last.duty == 65535
hal.set_relay(True)
assert pins[P["relay"]].value() == 1
pins[P["relay_fb"]].value(0)
assert hal.relay_feedback() is True                   # NO auxiliary contact: low = closed

pins[P["relay_fb"]].value(1)
hal.set_relay(False)
bridge = Bridge(hal, cfg)
for _ in range(50):
    bridge.step()
assert machine.WDT.feeds >= 50 and bridge.faults == 0

# PIO path: the state machine's down-counter becomes us ticks
cfg = dict(config.DEFAULTS)
cfg["relay_fb_closed_level"] = 1                      # mirror contact: high = closed
hal = hal_machine.MachineHal(cfg)
sm = rp2.StateMachine.last
assert sm.on and sm.freq == hal_machine.PIO_FREQ and sm.jmp_pin is pins[P["zero_cross"]]
assert not pins[P["zero_cross"]].handler or pins[P["zero_cross"]].handler.__name__ != "_on_crossing"
sm.fifo = [0x3FFFFFFF - 1000, 0x3FFFFFFF - 21000, 5]  # counts down; the last one wrapped
out = []
hal.take_crossings(out)
assert out == [1000, 21000, 0x3FFFFFFF - 5], out
pins[P["relay_fb"]].value(1)
assert hal.relay_feedback() is True
print("OK")
