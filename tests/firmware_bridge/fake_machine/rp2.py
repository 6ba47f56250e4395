"""A stand-in for MicroPython's `rp2` on the unix port, recording what the HAL does: a DMA
that "captures" ADC.samples-like values into the buffer at once, and a state machine whose
RX FIFO the check fills. Only hal_machine's own logic is checked, not the PIO or the DMA."""


class PIO:
    SHIFT_LEFT = 0


def asm_pio(**kw):
    def wrap(fn):
        return fn          # the program body needs the PIO assembler: not run here
    return wrap


class StateMachine:
    last = None

    def __init__(self, n, prog, freq=0, in_base=None, jmp_pin=None):
        self.freq = freq
        self.jmp_pin = jmp_pin
        self.fifo = []
        self.on = 0
        StateMachine.last = self

    def active(self, on):
        self.on = on

    def rx_fifo(self):
        return len(self.fifo)

    def get(self):
        return self.fifo.pop(0)


class DMA:
    wave = [2048]          # 12-bit samples the next capture writes
    captures = 0

    def pack_ctrl(self, **kw):
        self.ctrl = kw
        return 1

    def config(self, read=0, write=None, count=0, ctrl=0, trigger=False):
        for i in range(count):
            write[i] = DMA.wave[i % len(DMA.wave)]
        DMA.captures += 1

    def active(self):
        return False
