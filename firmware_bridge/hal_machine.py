"""The HAL on a Raspberry Pi Pico (RP2040) running MicroPython: the `machine` module.

Same calls as hal_sim.SimHal. Pins (GPIO numbers) are in PINS; the wiring table in README.md
shows the circuits. The zero-crossing input uses a hard interrupt that only stores
time.ticks_us() into a preallocated ring (no allocation in the handler); the S0 input a soft
interrupt into PulseCounter. The pilot ADC is sampled in a burst that spans one PWM period
and the extremes give the high and low levels.
"""
import sys
import time
from array import array

import select
from machine import ADC, PWM, WDT, Pin

from firmware_bridge.pulses import PulseCounter

PINS = {
    "pilot_pwm": 16,     # to the +/-12 V pilot driver (op-amp); high = +12 V
    "pilot_adc": 26,     # ADC0: pilot through the divider, -12..+12 V -> 0..3.3 V
    "relay": 17,         # contactor coil driver (transistor/SSR), high = closed
    "relay_fb": 18,      # contactor mirror contact to GND, pulled up: low = closed
    "zero_cross": 19,    # optocoupler zero-crossing detector, rising edge
    "s0": 20,            # S0 meter output (open collector to GND), pulled up
    "maint": 22,         # jumper to GND at boot: do not start the bridge (flashing)
}
RING = 64                 # zero-crossing timestamps buffered between two steps
ADC_SAMPLES = 120         # about 1.2 ms of samples: one full 1 kHz pilot period
ADC_ZERO_U16 = 32768      # ADC reading at 0 V pilot (calibrate per board)
ADC_MV_FULL = 12500       # pilot mV at a reading of ADC_ZERO_U16 above zero


class MachineHal:
    ticks_diff = staticmethod(time.ticks_diff)
    ticks_ms = staticmethod(time.ticks_ms)
    ticks_us = staticmethod(time.ticks_us)

    def __init__(self, cfg, pins=PINS):
        self._pwm = PWM(Pin(pins["pilot_pwm"]))
        self._pwm.freq(1000)
        self._pwm.duty_u16(65535)                       # +12 V: no charging
        self._adc = ADC(Pin(pins["pilot_adc"]))
        self._relay = Pin(pins["relay"], Pin.OUT, value=0)
        self._fb = Pin(pins["relay_fb"], Pin.IN, Pin.PULL_UP) if cfg["relay_feedback"] else None
        self._ring = array("I", [0] * RING)
        self._idx = array("I", [0, 0])                 # write count, read count
        zc = Pin(pins["zero_cross"], Pin.IN, Pin.PULL_UP)
        zc.irq(handler=self._on_crossing, trigger=Pin.IRQ_RISING, hard=True)
        self._zc = zc
        self.pulses = PulseCounter(time.ticks_diff, cfg["s0_debounce_ms"])
        s0 = Pin(pins["s0"], Pin.IN, Pin.PULL_UP)
        s0.irq(handler=self._on_pulse, trigger=Pin.IRQ_FALLING)
        self._s0 = s0
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._samples = array("H", [0] * ADC_SAMPLES)
        self._wdt = WDT(timeout=cfg["hw_watchdog_ms"])

    def _on_crossing(self, pin):
        i = self._idx[0]
        self._ring[i % RING] = time.ticks_us()
        self._idx[0] = (i + 1) & 0x3FFFFFFF

    def _on_pulse(self, pin):
        self.pulses.on_edge(time.ticks_ms())

    def take_crossings(self, out):
        w = self._idx[0]
        r = self._idx[1]
        if (w - r) & 0x3FFFFFFF > RING:                # overrun: keep the newest
            r = (w - RING) & 0x3FFFFFFF
        while r != w:
            out.append(self._ring[r % RING])
            r = (r + 1) & 0x3FFFFFFF
        self._idx[1] = r

    def serial_read(self):
        data = b""
        while self._poll.poll(0):
            chunk = self._in.read(1)
            if not chunk:
                break
            data += chunk
            if len(data) >= 256:
                break
        return data or None

    def serial_write(self, data):
        self._out.write(data)

    def set_pilot_duty(self, permille):
        self._pwm.duty_u16(65535 if permille >= 1000 else (permille * 65535) // 1000)

    def read_pilot_mv(self):
        s = self._samples
        read = self._adc.read_u16
        for i in range(ADC_SAMPLES):
            s[i] = read()
            time.sleep_us(8)
        hi = max(s)
        lo = min(s)
        return (((hi - ADC_ZERO_U16) * ADC_MV_FULL) // 32768,
                ((lo - ADC_ZERO_U16) * ADC_MV_FULL) // 32768)

    def set_relay(self, closed):
        self._relay.value(1 if closed else 0)

    def relay_feedback(self):
        return None if self._fb is None else self._fb.value() == 0

    def feed_watchdog(self):
        self._wdt.feed()
