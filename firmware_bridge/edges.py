"""Timestamps from an interrupt handler to the main loop, without allocating.

EdgeRing.push() runs in a hard IRQ (zero crossings): it only stores small ints into
preallocated arrays. The write and read counts wrap at COUNT_MASK + 1 (65536), far below the
31-bit small-int limit of a 32-bit MicroPython port (rp2): `count + 1` never needs a long int,
so never allocates, whatever the uptime. take() runs in the main loop.
"""
from array import array

COUNT_MASK = 0xFFFF           # counts wrap here; the ring size must divide COUNT_MASK + 1


class EdgeRing:
    def __init__(self, size=64):
        self.size = size
        self._ring = array("I", [0] * size)
        self._count = array("I", [0, 0])    # written, read (array cells: no attribute writes)
        self.overruns = 0

    def push(self, t):
        """Store one timestamp (an int below 2**30). Hard-IRQ safe."""
        c = self._count
        i = c[0]
        self._ring[i % self.size] = t
        c[0] = (i + 1) & COUNT_MASK

    def take(self, out):
        """Append the timestamps stored since the last take() to out, oldest first; if the
        ring overran, keep the newest `size` of them."""
        c = self._count
        w = c[0]
        r = c[1]
        if (w - r) & COUNT_MASK > self.size:
            self.overruns += 1
            r = (w - self.size) & COUNT_MASK
        while r != w:
            out.append(self._ring[r % self.size])
            r = (r + 1) & COUNT_MASK
        c[1] = r
