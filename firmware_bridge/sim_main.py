"""Run the bridge firmware on simulated hardware in real time, serial on a tty (a pty pair).

    micropython firmware_bridge/sim_main.py /dev/pts/N [key=value ...]
    python -m firmware_bridge.sim_main /dev/pts/N

The same Bridge as on the Pico; only the HAL differs. Extra arguments override config
settings (watchdog_ms=1000). The simulated world is driven by lines on stdin:
    car A|B|C|D|E     vehicle state          diode 0|1     vehicle diode present
    freq <mHz>        mains frequency        jitter <us>   zero-crossing timing noise
    mains 0|1         zero-crossing signal   power <W>     S0 meter power
    weld 0|1          contactor welded       stuck 0|1     contactor stuck open
    garbage <n>       write n noise bytes on the serial line
    reboot            restart the firmware (fresh state, announces itself with a hello)
    state             print one line of internal state   quit
Prints "ready" once the tty is open; answers "ok <cmd>" or "error <why>" to each command.
"""
import select
import sys
import time

try:
    from firmware_bridge import config
except ImportError:            # started as a script: make the package importable
    sys.path.insert(0, (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/..")
    from firmware_bridge import config
from firmware_bridge.bridge import Bridge
from firmware_bridge.hal_sim import Mains, SimHal
from firmware_bridge.pulses import PulseCounter
from firmware_bridge.supervisor import Supervisor


def _now_us():
    return time.time_ns() // 1000


def say(line):
    print(line)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


class TtyHal(SimHal):
    """SimHal whose clock is the real clock and whose serial line is a tty."""

    def __init__(self, path):
        self.world = {"freq_mhz": 50000}
        world = self.world
        start = _now_us()
        SimHal.__init__(self, start_us=start,
                        mains=Mains(lambda t: world["freq_mhz"], jitter_us=20, start_us=start))
        self._tty = open(path, "r+b", buffering=0)
        self._poll = select.poll()
        self._poll.register(self._tty, select.POLLIN)

    def sync(self):
        now = _now_us()
        if now > self.now_us:
            self.advance(now - self.now_us)

    def serial_read_into(self, buf):
        n = 0
        while n < len(buf):
            events = self._poll.poll(0)
            if not events or not events[0][1] & select.POLLIN:
                break
            b = self._tty.read(1)
            if not b:
                break
            buf[n] = b[0]
            n += 1
        return n

    def serial_room(self):
        return 4096

    def serial_write(self, buf, off=0, n=None):
        if n is None:
            n = len(buf) - off
        self._tty.write(bytes(buf[off:off + n]))


def command(hal, bridge, line):
    """Apply one stdin command to the simulated world; returns the reply line."""
    parts = line.split()
    if not parts:
        return None
    name = parts[0]
    arg = parts[1] if len(parts) > 1 else ""
    try:
        if name == "car" and arg in "ABCDE" and len(arg) == 1:
            hal.car = arg
        elif name == "diode":
            hal.car_diode = arg == "1"
        elif name == "freq":
            hal.world["freq_mhz"] = int(arg)
        elif name == "jitter":
            hal.mains.jitter_us = int(arg)
        elif name == "mains":
            hal.mains.enabled = arg == "1"
        elif name == "power":
            hal.s0.power_w = int(arg)
        elif name == "weld":
            hal.welded = arg == "1"
        elif name == "stuck":
            hal.stuck_open = arg == "1"
        elif name == "garbage":
            noise = bytearray()
            for _ in range(int(arg)):
                noise.append(hal.rng.below(256))
            hal.serial_write(noise)
        elif name == "state" and bridge is None:
            return "state restarting"
        elif name == "state":
            return "state car=%s duty=%s relay=%d faults=%d freq=%d bad=%d wd=%d droop=%d" % (
                hal.car, hal.duty, hal.relay_cmd, bridge.faults, bridge.freq.freq_mhz,
                bridge.reader.bad_frames, bridge.watchdog.timeout_ms, bridge.droop.enabled)
        elif name == "reboot":
            return "reboot"
        elif name == "quit":
            return "bye"
        else:
            return "error unknown command %r" % line
    except ValueError:
        return "error bad argument in %r" % line
    return "ok " + name


def main(argv):
    if len(argv) < 2:
        print("usage: sim_main.py TTY [key=value ...]")
        return 2
    overrides = {}
    for kv in argv[2:]:
        key, _, value = kv.partition("=")
        overrides[key] = value in ("true", "1") if value in ("true", "false") else int(value)
    cfg, errors = config.validate(overrides)
    for e in errors:
        say("config error: " + e)
    hal = TtyHal(argv[1])
    sup = Supervisor(hal, lambda restarts: Bridge(hal, cfg, errors, restarts),
                     cfg["restart_delay_ms"])
    sup.start()                         # announce a (re)boot
    stdin_poll = select.poll()
    stdin_poll.register(sys.stdin, select.POLLIN)
    say("ready")
    while True:
        hal.sync()
        sup.step()
        if stdin_poll.poll(0):
            line = sys.stdin.readline()
            if not line:
                return 0
            reply = command(hal, sup.bridge, line.strip())
            if reply == "reboot":
                hal.set_relay(False)
                hal.pulses = PulseCounter(hal.ticks_diff, cfg["s0_debounce_ms"])
                sup = Supervisor(hal, lambda restarts: Bridge(hal, cfg, errors, restarts),
                                 cfg["restart_delay_ms"])
                sup.start()
                reply = "ok reboot"
            if reply:
                say(reply)
            if reply == "bye":
                return 0
        _sleep_ms(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
