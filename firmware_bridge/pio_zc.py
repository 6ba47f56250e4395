"""The zero-crossing timestamp program for an RP2040 PIO state machine (rp2.asm_pio).

Its own module so the program can be recorded and run cycle by cycle in the tests
(tests/firmware_bridge/test_bridge_pio.py) without the rest of the Pico HAL. The names in the
body (jmp, label, in_, ...) are supplied by the PIO assembler when it runs the function.
"""
# ruff: noqa: F821
PIO_FREQ = 4000000              # 4 cycles per count: a 1 MHz counter


def zc_program():
    """PIO program: x counts down once every 4 cycles, whatever the pin does; on each
    rising edge the low 30 bits of x are pushed (non-blocking) to the RX FIFO."""
    import rp2

    @rp2.asm_pio(in_shiftdir=rp2.PIO.SHIFT_LEFT)
    def zc():
        wrap_target()
        label("low")
        jmp(x_dec, "l1")           # 1 cycle: count
        label("l1")
        jmp(pin, "rise")           # 1 cycle: pin high -> edge
        jmp("low").delay(1)        # 2 cycles                      (4 per count)
        label("rise")
        in_(x, 30)                 # 1 cycle: ISR = x & 0x3FFFFFFF
        push(noblock)              # 1 cycle                       (4 per count)
        label("high")
        jmp(x_dec, "h1")           # 1 cycle: count
        label("h1")
        jmp(pin, "high").delay(2)  # 3 cycles: still high, else on to "low" (4 per count)
        wrap()
    return zc
