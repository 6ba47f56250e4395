"""Entry point on the Pico: copied to the board as /main.py (see README.md, Flashing).

Holding the maintenance pin low at reset leaves the REPL free for mpremote instead.
"""
import micropython
from machine import Pin

from firmware_bridge import config
from firmware_bridge.hal_machine import PINS


def run():
    cfg, errors = config.load("bridge.json")
    from firmware_bridge.bridge import Bridge
    from firmware_bridge.hal_machine import MachineHal
    hal = MachineHal(cfg)
    bridge = Bridge(hal, cfg, errors)
    micropython.kbd_intr(-1)           # 0x03 is data on this line, not Ctrl-C
    bridge.send_hello()
    while True:
        bridge.step()


if Pin(PINS["maint"], Pin.IN, Pin.PULL_UP).value():
    run()
