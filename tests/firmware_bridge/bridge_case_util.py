"""Helpers shared by the firmware cases (CPython and MicroPython alike)."""
from firmware_bridge import pilot
from firmware_bridge import protocol as P
from firmware_bridge.bridge import Bridge
from firmware_bridge.hal_sim import Mains, SimHal


def measure(key, value):
    print("MEASURE %s %s" % (key, value))


class Host:
    """The host end of an in-memory serial line to a Bridge on SimHal."""

    def __init__(self, hal):
        self.hal = hal
        self.reader = P.FrameReader()
        self.seq = 0
        self.got = []

    def send(self, msg_type, values=()):
        self.seq = (self.seq + 1) & 0xFF
        self.hal.rx.extend(P.message(msg_type, self.seq, values))
        return self.seq

    def poll(self):
        for f in self.reader.feed(self.hal.take_tx()):
            self.got.append((f[1], f[2], P.unpack(f[1], f[3])))
        return self.got

    def acks(self):
        return [v for t, s, v in self.poll() if t == P.ACK]

    def last(self, msg_type):
        found = [v for t, s, v in self.poll() if t == msg_type]
        return P.as_dict(msg_type, found[-1]) if found else None


def make_bridge(start_us=0, freq_fn=None, jitter_us=0, cfg=None, **mains_kw):
    mains = Mains(freq_fn or (lambda t: 50000), jitter_us=jitter_us, start_us=start_us,
                  **mains_kw)
    hal = SimHal(start_us=start_us, mains=mains)
    bridge = Bridge(hal, cfg)
    host = Host(hal)
    return hal, bridge, host


def run_alive(hal, bridge, host, ms):
    """Run for ms with a heartbeat every 500 ms, as a healthy host does."""
    for _ in range(ms // 500):
        host.send(P.HEARTBEAT)
        hal.run(bridge, 500)
    hal.run(bridge, ms % 500)


def start_charging(hal, bridge, host, current_da=160):
    host.send(P.HEARTBEAT)
    host.send(P.SET_RELAY, (1,))
    host.send(P.SET_PILOT, (current_da,))
    hal.car = "C"
    hal.run(bridge, 300)
    assert [a[2] for a in host.acks()] == [P.OK, P.OK, P.OK]
    host.got = []
    assert hal.relay_cmd and hal.duty == pilot.current_to_duty(current_da)


def alloc_bytes(fn):
    """Heap bytes fn() allocates under MicroPython (GC off meanwhile); None under CPython."""
    import gc
    if not hasattr(gc, "mem_alloc"):
        return None
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        fn()
        return gc.mem_alloc() - before
    finally:
        gc.enable()


def frames_of(host, msg_type):
    return [v for t, s, v in host.poll() if t == msg_type]
