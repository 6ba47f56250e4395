"""A stand-in for MicroPython's `machine` on the unix port, recording what the HAL does.
Only for checking hal_machine's own logic (ring buffer, conversions); not the hardware."""


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 2
    IRQ_RISING = 4
    IRQ_FALLING = 8
    pins = {}

    def __init__(self, n, mode=None, pull=None, value=None):
        self.n = n
        self._value = 1 if value is None else value
        self.handler = None
        Pin.pins[n] = self

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = v

    def irq(self, handler=None, trigger=0, hard=False):
        self.handler = handler
        self.hard = hard


class PWM:
    last = None

    def __init__(self, pin):
        self.pin = pin
        self.duty = None
        PWM.last = self

    def freq(self, f):
        self.f = f

    def duty_u16(self, d):
        self.duty = d


class ADC:
    samples = [32768]

    def __init__(self, pin):
        self.i = 0

    def read_u16(self):
        self.i += 1
        return ADC.samples[self.i % len(ADC.samples)]


class WDT:
    feeds = 0

    def __init__(self, timeout=0):
        self.timeout = timeout

    def feed(self):
        WDT.feeds += 1


class _Mem32(dict):
    def __getitem__(self, addr):
        return self.get(addr, 0)


mem32 = _Mem32()
