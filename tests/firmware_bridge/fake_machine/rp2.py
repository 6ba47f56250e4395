"""A stand-in for MicroPython's `rp2` on the unix port and CPython, recording what the HAL
does: a DMA that "captures" DMA.wave into the buffer at once, and a state machine whose RX
FIFO the check fills. Under CPython, asm_pio also records the PIO program's instructions
(as the real assembler reads them), so a test can run them cycle by cycle (PioProgram)."""


class PIO:
    SHIFT_LEFT = 0


class Instr:
    def __init__(self, op, a=None, b=None):
        self.op = op
        self.a = a
        self.b = b
        self.cycles = 1

    def delay(self, n):
        self.cycles = 1 + n
        return self


class PioProgram:
    """Instructions, labels and the wrap of a recorded program."""

    def __init__(self):
        self.code = []
        self.labels = {}
        self.wrap_target = 0
        self.wrap = None


def asm_pio(**kw):
    def wrap(fn):
        try:
            import types
            function_type = types.FunctionType
        except (ImportError, AttributeError):   # MicroPython: the body is not run here
            return fn
        prog = PioProgram()

        def add(op, a=None, b=None):
            ins = Instr(op, a, b)
            prog.code.append(ins)
            return ins

        def set_wrap():
            prog.wrap = len(prog.code) - 1

        dsl = {
            "wrap_target": lambda: setattr(prog, "wrap_target", len(prog.code)),
            "wrap": set_wrap,
            "label": lambda name: prog.labels.__setitem__(name, len(prog.code)),
            "jmp": lambda a, b=None: add("jmp", a if b is not None else None,
                                         b if b is not None else a),
            "in_": lambda src, n: add("in", src, n),
            "push": lambda mode=None: add("push", mode),
            "x": "x", "x_dec": "x_dec", "pin": "pin", "noblock": "noblock",
        }
        function_type(fn.__code__, dsl)()
        return prog
    return wrap


class StateMachine:
    last = None

    def __init__(self, n, prog, freq=0, in_base=None, jmp_pin=None):
        self.prog = prog
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
