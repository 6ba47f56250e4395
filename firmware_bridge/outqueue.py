"""Frames to the host, written without ever blocking the loop.

The bridge puts whole frames here; the HAL takes bytes only as fast as the USB line accepts
them (hal.serial_room()). When the host stops reading, the queue fills and new frames are
dropped whole and counted (a frame is never cut: the host resynchronises on 0x00 anyway),
so a silent host can never stall the pilot, the contactor or the hardware watchdog feed.
The ring is preallocated: put() and flush() allocate nothing.
"""


class OutQueue:
    def __init__(self, size=512):
        self._buf = bytearray(size)
        self._size = size
        self._head = 0          # next byte to write to the line
        self._count = 0         # bytes queued
        self.dropped = 0        # frames dropped because the queue was full

    def pending(self):
        return self._count

    def put(self, frame):
        """Queue a whole frame; False (and counted) if it does not fit."""
        n = len(frame)
        if n > self._size - self._count:
            self.dropped += 1
            return False
        buf = self._buf
        size = self._size
        j = (self._head + self._count) % size
        for i in range(n):
            buf[j] = frame[i]
            j += 1
            if j == size:
                j = 0
        self._count += n
        return True

    def flush(self, hal, budget=256):
        """Write what the line takes now, at most budget bytes. Returns bytes written."""
        done = 0
        while self._count and done < budget:
            room = hal.serial_room()
            if room <= 0:
                break
            n = self._size - self._head           # contiguous run up to the ring's end
            if n > self._count:
                n = self._count
            if n > room:
                n = room
            if n > budget - done:
                n = budget - done
            hal.serial_write(self._buf, self._head, n)
            self._head = (self._head + n) % self._size
            self._count -= n
            done += n
        return done
