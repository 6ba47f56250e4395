"""The zero-crossing PIO program (firmware_bridge/pio_zc.py), run cycle by cycle on a small model of an
RP2040 state machine (the instructions it uses: jmp with x_dec / pin / always, in_, push
noblock, delays, wrap). Checks that X counts down exactly once every 4 cycles on every path,
so the pushed values are 1 us timestamps at 4 MHz whatever the detector's pulse width, and
that a period measured from them is exact to the 1 us step. The real RP2040 is not involved.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

FAKE = str(Path(__file__).resolve().parent / "fake_machine")


@pytest.fixture(scope="module")
def program():
    sys.path.insert(0, FAKE)
    saved = {k: sys.modules.pop(k) for k in ("rp2", "firmware_bridge.pio_zc")
             if k in sys.modules}
    try:
        pio = importlib.import_module("firmware_bridge.pio_zc")
        yield pio.zc_program(), pio.PIO_FREQ
    finally:
        for k in ("rp2", "firmware_bridge.pio_zc"):
            sys.modules.pop(k, None)
        sys.modules.update(saved)
        sys.path.remove(FAKE)


def run_sm(prog, pin_at, cycles, x=0):
    """Run the program; pin_at(cycle) -> 0/1. Returns (pushed values with the cycle of the
    push, X decrements per cycle count)."""
    pc = prog.wrap_target
    isr = 0
    fifo = []
    cycle = 0
    decrements = 0
    while cycle < cycles:
        ins = prog.code[pc]
        nxt = pc + 1
        if ins.op == "jmp":
            cond = ins.a
            if cond is None:
                take = True
            elif cond == "x_dec":
                take = x != 0
                x = (x - 1) & 0xFFFFFFFF
                decrements += 1
            elif cond == "pin":
                take = pin_at(cycle) == 1
            else:
                raise AssertionError(f"condition {cond} not modelled")
            if take:
                nxt = prog.labels[ins.b]
        elif ins.op == "in":
            assert ins.a == "x"
            isr = ((isr << ins.b) | (x & ((1 << ins.b) - 1))) & 0xFFFFFFFF
        elif ins.op == "push":
            fifo.append((isr, cycle))
            isr = 0
        else:
            raise AssertionError(ins.op)
        if pc == prog.wrap and nxt == pc + 1:
            nxt = prog.wrap_target
        pc = nxt
        cycle += ins.cycles
    return fifo, decrements


@pytest.mark.parametrize("high_us", [300, 2000, 9990])
def test_pio_counts_one_us_per_count_on_every_path(program, high_us):
    prog, freq = program
    assert freq == 4000000
    per_us = freq // 1000000
    period_cycles = 20000 * per_us + 3         # 50 Hz plus 0.75 us: a sub-step remainder
    offset = 1237

    def pin(c):
        return 1 if (c - offset) % period_cycles < high_us * per_us and c >= offset else 0

    fifo, decs = run_sm(prog, pin, 12 * period_cycles)
    assert len(fifo) == 12
    ts = [0x3FFFFFFF - v for v, _ in fifo]
    periods = [ts[i + 1] - ts[i] for i in range(len(ts) - 1)]
    assert all(p in (20000, 20001) for p in periods), periods
    assert abs(sum(periods) - 11 * period_cycles / per_us) <= 1
    # each push comes at most 4 cycles (1 count) after the rising edge
    for k, (_, c) in enumerate(fifo):
        assert 0 <= c - (offset + k * period_cycles) <= 4 + 2, (k, c)


def test_pio_timestamps_wrap_like_ticks_us(program):
    prog, _ = program
    fifo, _ = run_sm(prog, lambda c: 1 if c % 80000 < 4000 else 0, 3 * 80000, x=5 * 4)
    ts = [0x3FFFFFFF - v for v, _ in fifo]
    from firmware_bridge.hal_sim import ticks_diff
    assert [ticks_diff(ts[i + 1], ts[i]) for i in range(len(ts) - 1)] == [20000, 20000]
