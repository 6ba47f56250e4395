"""The HAL on a Raspberry Pi Pico (RP2040) running MicroPython: `machine` and `rp2`.

Same calls as hal_sim.SimHal. Pins (GPIO numbers) are in PINS; the wiring table in README.md
shows the circuits.
- Zero crossings: a PIO state machine counts a 1 MHz 30-bit down-counter and pushes it on
  every rising edge of the detector (cycle-exact: no interrupt latency); the main loop drains
  its FIFO. Without rp2.PIO (or with zero_cross_pio false) a hard IRQ stores
  time.ticks_us() into an EdgeRing instead (allocation-free). Both give us timestamps that
  wrap at 2**30, which is what the frequency estimator takes.
- S0: a pin interrupt into PulseCounter (allocation-free).
- Pilot: the ADC runs free at 250 kS/s into a DMA buffer over one whole PWM period (1 ms,
  250 samples); pilot.plateau_levels() averages the high and low plateaus away from the
  edges. The capture runs in the background: read_pilot_mv() returns the last complete one
  and starts the next.
- USB serial: bytes read into a preallocated buffer one poll at a time; writes only when
  the line reports room (a host that stops reading cannot block the loop).
"""
import sys
import time
from array import array

import select
from machine import ADC, PWM, WDT, Pin

from firmware_bridge import pilot
from firmware_bridge.edges import EdgeRing
from firmware_bridge.pio_zc import PIO_FREQ, zc_program
from firmware_bridge.pulses import PulseCounter

PINS = {
    "pilot_pwm": 16,     # to the +/-12 V pilot driver (op-amp); high = +12 V
    "pilot_adc": 26,     # ADC0: pilot through the divider, -12..+12 V -> 0..3.3 V
    "relay": 17,         # contactor coil driver (transistor/SSR), high = closed
    "relay_fb": 18,      # contactor feedback contact to GND, pulled up
    "zero_cross": 19,    # optocoupler zero-crossing detector, rising edge
    "s0": 20,            # S0 meter output (open collector to GND), pulled up
    "maint": 22,         # jumper to GND at boot: do not start the bridge (flashing)
}
RING = 64                 # zero-crossing timestamps buffered between two steps (IRQ path)
ADC_SAMPLES = 250         # one 1 kHz PWM period at 250 kS/s
ADC_GUARD = 2             # samples left out each side of a pilot edge (8 us: ringing)
ADC_ZERO = 2048           # 12-bit ADC reading at 0 V pilot (calibrate per board)
ADC_MV_FULL = 12500       # pilot mV at a reading of ADC_ZERO above zero
# RP2040 registers (datasheet 4.9): ADC control, FIFO, clock divider; DMA request number
ADC_BASE = 0x4004C000
ADC_CS = ADC_BASE + 0x00
ADC_FCS = ADC_BASE + 0x08
ADC_FIFO = ADC_BASE + 0x0C
ADC_DIV = ADC_BASE + 0x10
DREQ_ADC = 36
ADC_DIV_250KSPS = 191 << 8      # 48 MHz / (1 + 191) = 250 kS/s


class MachineHal:
    ticks_diff = staticmethod(time.ticks_diff)
    ticks_ms = staticmethod(time.ticks_ms)
    ticks_us = staticmethod(time.ticks_us)

    def __init__(self, cfg, pins=PINS):
        self._pwm = PWM(Pin(pins["pilot_pwm"]))
        self._pwm.freq(1000)
        self._pwm.duty_u16(65535)                       # +12 V: no charging
        self._relay = Pin(pins["relay"], Pin.OUT, value=0)
        self._fb = Pin(pins["relay_fb"], Pin.IN, Pin.PULL_UP) if cfg["relay_feedback"] else None
        self._fb_closed = cfg["relay_fb_closed_level"]
        self.edges = EdgeRing(RING)
        self._sm = None
        zc = Pin(pins["zero_cross"], Pin.IN, Pin.PULL_UP)
        if cfg["zero_cross_pio"]:
            self._sm = _start_pio(zc)
        if self._sm is None:
            zc.irq(handler=self._on_crossing, trigger=Pin.IRQ_RISING, hard=True)
        self._zc = zc
        self.pulses = PulseCounter(time.ticks_diff, cfg["s0_debounce_ms"])
        s0 = Pin(pins["s0"], Pin.IN, Pin.PULL_UP)
        s0.irq(handler=self._on_pulse, trigger=Pin.IRQ_FALLING)
        self._s0 = s0
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._one = bytearray(1)
        self._rpoll = select.poll()
        self._rpoll.register(sys.stdin, select.POLLIN)
        self._wpoll = select.poll()
        self._wpoll.register(sys.stdout, select.POLLOUT)
        self._adc = ADC(Pin(pins["pilot_adc"]))
        self._samples = array("H", [0] * ADC_SAMPLES)
        self._levels = (0, 0)
        self._dma = _AdcCapture(self._samples)
        self._dma.start()
        self._wdt = WDT(timeout=cfg["hw_watchdog_ms"])

    def _on_crossing(self, pin):
        self.edges.push(time.ticks_us())

    def _on_pulse(self, pin):
        self.pulses.on_edge(time.ticks_ms())

    def take_crossings(self, out):
        sm = self._sm
        if sm is None:
            self.edges.take(out)
            return
        while sm.rx_fifo():
            out.append(0x3FFFFFFF - sm.get())           # down-counter -> us ticks (2**30)

    def serial_read_into(self, buf):
        n = 0
        one = self._one
        while n < len(buf):
            ready = False
            for _ in self._rpoll.ipoll(0):
                ready = True
            if not ready or not self._in.readinto(one):
                break
            buf[n] = one[0]
            n += 1
        return n

    def serial_room(self):
        for _ in self._wpoll.ipoll(0):
            return 1          # the CDC FIFO has room for at least one byte
        return 0

    def serial_write(self, buf, off, n):
        one = self._one
        for i in range(off, off + n):
            one[0] = buf[i]
            self._out.write(one)

    def set_pilot_duty(self, permille):
        self._pwm.duty_u16(65535 if permille >= 1000 else (permille * 65535) // 1000)

    def read_pilot_mv(self):
        if self._dma.done():
            hi, lo = pilot.plateau_levels(self._samples, ADC_SAMPLES, ADC_ZERO, ADC_GUARD)
            self._levels = ((hi * ADC_MV_FULL) // ADC_ZERO, (lo * ADC_MV_FULL) // ADC_ZERO)
            self._dma.start()
        return self._levels

    def set_relay(self, closed):
        self._relay.value(1 if closed else 0)

    def relay_feedback(self):
        return None if self._fb is None else self._fb.value() == self._fb_closed

    def feed_watchdog(self):
        self._wdt.feed()


def _start_pio(pin):
    """The zero-crossing timestamp state machine, or None where rp2.PIO is missing."""
    try:
        import rp2
        sm = rp2.StateMachine(0, zc_program(), freq=PIO_FREQ, in_base=pin, jmp_pin=pin)
        sm.active(1)
        return sm
    except (ImportError, AttributeError, OSError, ValueError):
        return None


class _AdcCapture:
    """ADC0 free-running at 250 kS/s into a buffer by DMA (rp2.DMA, MicroPython >= 1.22)."""

    def __init__(self, buf):
        from machine import mem32
        import rp2
        self._mem32 = mem32
        self._buf = buf
        self._dma = rp2.DMA()
        self._ctrl = self._dma.pack_ctrl(size=1, inc_read=False, inc_write=True,
                                         treq_sel=DREQ_ADC)
        mem32[ADC_DIV] = ADC_DIV_250KSPS

    def start(self):
        m = self._mem32
        m[ADC_CS] = 0x1                                  # EN, AINSEL 0, stop free-running
        while (m[ADC_FCS] >> 16) & 0xF:                  # drain the FIFO
            m[ADC_FIFO]
        m[ADC_FCS] = 0x1 | 0x8 | (1 << 24)               # EN, DREQ_EN, THRESH 1 (12 bits)
        self._dma.config(read=ADC_FIFO, write=self._buf, count=len(self._buf),
                         ctrl=self._ctrl, trigger=True)
        m[ADC_CS] = 0x1 | 0x8                            # EN, START_MANY

    def done(self):
        if self._dma.active():
            return False
        self._mem32[ADC_CS] = 0x1
        return True
