"""Entry point on the Pico: copied to the board as /main.py (see README.md, Flashing).

Holding the maintenance pin low at reset leaves the REPL free for mpremote instead.
The loop never ends: exceptions inside a step are handled by the Supervisor (outputs safe
at once, clean restart later); one while the hardware is being set up drives the pilot and
contactor pins low directly and resets the board after a pause.
"""
import micropython
from machine import Pin

from firmware_bridge import config
from firmware_bridge.hal_machine import PINS

micropython.alloc_emergency_exception_buf(128)   # tracebacks from IRQs without allocating


def run():
    micropython.kbd_intr(-1)           # 0x03 is data on this line, not Ctrl-C
    cfg, errors = config.load("bridge.json")
    from firmware_bridge.bridge import Bridge
    from firmware_bridge.hal_machine import MachineHal
    from firmware_bridge.supervisor import Supervisor
    hal = MachineHal(cfg)
    sup = Supervisor(hal, lambda restarts: Bridge(hal, cfg, errors, restarts),
                     cfg["restart_delay_ms"])
    sup.start()
    while True:
        sup.step()


def fail_safe():
    """Setup failed: pilot low (-12 V, state F), contactor open, then reset the board."""
    import time
    import machine
    for name in ("pilot_pwm", "relay"):
        try:
            Pin(PINS[name], Pin.OUT, value=0)
        except Exception:  # noqa: BLE001
            pass
    time.sleep_ms(1500)
    machine.reset()


if Pin(PINS["maint"], Pin.IN, Pin.PULL_UP).value():
    try:
        run()
    except BaseException:  # noqa: BLE001 - never fall back to the REPL on the host's line
        fail_safe()
