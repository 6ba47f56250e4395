"""Bridge firmware figures: heap, zero-crossing timestamps (PIO vs IRQ), pilot sampling
(plateaus vs max/min), and fault -> safe-state times. Prints four tables.

    .venv/bin/python bench/firmware_bridge.py [--seconds 60]

- Heap: bench/firmware_bridge_mp.py under MicroPython, the 64-bit unix port (PyPI) and the
  32-bit webassembly port (npm, tests/firmware_bridge/mp32; 31-bit small ints as on the
  RP2040), the bridge on an allocation-free HAL: bytes allocated per idle step, per pilot
  sample, per frame, per second of typical traffic, and the heap high-water mark.
- Frequency: the estimator fed by simulated mains with detector jitter, timestamps either
  from the PIO counter (1 us, no latency) or from the hard IRQ (entry latency 4-20 us, 2 % of
  edges 40-150 us: an assumed model, see firmware_bridge/README.md).
- Pilot: 2000 captures per row of a simulated pilot (noise, ringing, spikes); the state and
  diode verdicts of the plateau average over one DMA capture (250 samples, 4 us) against the
  former max/min of 120 unsynchronised samples 10 us apart.
- Safe state: each fault of the README's safety table on the simulated hardware, 1 ms loop.
Times are simulated time (exact); the RP2040 itself is not modelled.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "firmware_bridge"))

from bridge_case_util import make_bridge, run_alive, start_charging  # noqa: E402
from firmware_bridge import pilot  # noqa: E402
from firmware_bridge import protocol as P  # noqa: E402
from firmware_bridge.bridge import Bridge  # noqa: E402
from firmware_bridge.config import validate  # noqa: E402
from firmware_bridge.frequency import FrequencyEstimator  # noqa: E402
from firmware_bridge.hal_sim import TICKS_MASK, Mains, PilotWave, Rng, SimHal, ticks_diff  # noqa: E402
from firmware_bridge.supervisor import Supervisor  # noqa: E402


def table(title, head, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


# ---------------------------------------------------------------- heap
def heap_table():
    mp = {"unix64": [str(Path(sys.executable).parent / "micropython")],
          "wasm32": [shutil.which("node") or "node",
                     str(ROOT / "tests/firmware_bridge/mp32/run.mjs"), str(ROOT)]}
    script = str(ROOT / "bench/firmware_bridge_mp.py")
    res = {}
    for port, cmd in mp.items():
        args = cmd + [script] + ([str(ROOT)] if port == "unix64" else [])
        out = subprocess.run(args, capture_output=True, text=True, timeout=600).stdout
        res[port] = dict(line.split()[1:3] for line in out.splitlines()
                         if line.startswith("RESULT"))
    keys = ["alloc_per_idle_step", "alloc_per_pilot_sample", "alloc_per_heartbeat_frame",
            "alloc_per_set_pilot_frame", "alloc_per_status_frame", "alloc_bytes_per_s_typical",
            "heap_live_bytes", "heap_live_max_bytes", "alloc_max_one_step",
            "heap_high_water_bytes"]
    table("Heap (bytes; typical = 1 kHz loop, heartbeat + STATUS every 500 ms)",
          ["figure", "unix port 64-bit", "webassembly port 32-bit"],
          [(k, res["unix64"].get(k, "-"), res["wasm32"].get(k, "-")) for k in keys])


# ---------------------------------------------------------------- frequency
def freq_errors(f_mhz, jitter_us, stamp, seconds):
    mains = Mains(lambda t: f_mhz, jitter_us=jitter_us, seed=21)
    hal = SimHal(mains=mains)
    hal.zc_timestamp = stamp
    est = FrequencyEstimator(ticks_diff)
    errors = []
    t = 0
    while t < seconds * 1000000:
        t += 10000
        for edge in mains.edges_until(t):
            if est.add(hal._stamp(edge)) and t > 1000000:
                errors.append(est.freq_mhz - f_mhz)
    n = len(errors)
    rms = (sum(e * e for e in errors) / n) ** 0.5
    return rms, max(abs(e) for e in errors), n


def freq_table(seconds):
    rows = []
    for f_mhz in (50000, 49950):
        for jitter in (0, 10, 30):
            cells = [f"{f_mhz / 1000:.3f}", jitter]
            for stamp in ("pio", "irq"):
                rms, worst, n = freq_errors(f_mhz, jitter, stamp, seconds)
                cells += [f"{rms:.2f}", worst]
            rows.append(cells)
    table(f"Frequency error (mHz, {seconds} s, a new estimate every 5 cycles over 20)",
          ["Hz", "detector jitter us", "PIO rms", "PIO max", "IRQ rms", "IRQ max"], rows)


# ---------------------------------------------------------------- pilot sampling
def pilot_rows(n_captures=2000):
    rows = []
    cases = (("clean", {}), ("ringing 3 V", {"ring_mv": 3000}),
             ("spikes 5 V, 0.5 %", {"spike_mv": 5000, "spike_ppm": 5000}),
             ("ringing + spikes", {"ring_mv": 3000, "spike_mv": 5000, "spike_ppm": 5000}))
    for duty in (266, 960):
        for name, kw in cases:
            new = PilotWave(Rng(5), n=250, sample_us=4, noise_mv=150, **kw)
            old = PilotWave(Rng(5), n=120, sample_us=10, noise_mv=150, **kw)
            bad_state = [0, 0]
            diode_fooled = [0, 0]
            for _ in range(n_captures):
                for i, wave in enumerate((new, old)):
                    s = wave.capture(duty, 6000, -12000)          # car in C, diode present
                    hi, lo = (pilot.plateau_levels(s, wave.n, 0, 2) if i == 0
                              else (max(s), min(s)))
                    if pilot.classify(hi) != "C" or not pilot.diode_ok("C", duty, lo):
                        bad_state[i] += 1
                    s = wave.capture(duty, 6000, -6000)           # no diode
                    hi, lo = (pilot.plateau_levels(s, wave.n, 0, 2) if i == 0
                              else (max(s), min(s)))
                    if pilot.diode_ok("C", duty, lo):
                        diode_fooled[i] += 1
            pct = lambda k: f"{100 * k / n_captures:.2f} %"  # noqa: E731
            rows.append((f"{duty / 10:.1f} %", name, pct(bad_state[0]), pct(bad_state[1]),
                         pct(diode_fooled[0]), pct(diode_fooled[1])))
    table("Pilot sampling: wrong verdicts per capture, car in C (plateaus = DMA capture "
          "averaged; max/min = former method)",
          ["duty", "disturbance", "state/diode wrong: plateaus", "max/min",
           "missing diode passed: plateaus", "max/min"], rows)


# ---------------------------------------------------------------- safe-state times
def first(log, pred, after_us):
    for t, v in log:
        if t >= after_us and pred(v):
            return (t - after_us) / 1000
    return None


def safe_rows():
    rows = []
    cfg, _ = validate({"watchdog_ms": 3000})
    hal, bridge, host = make_bridge(cfg=cfg)
    start_charging(hal, bridge, host)
    host.send(P.HEARTBEAT)
    hal.run(bridge, 1)
    t0 = hal.now_us
    hal.run(bridge, 3300)
    hal.car = "B"                       # the car reacts to the withdrawn offer
    t_car = hal.now_us
    hal.run(bridge, 200)
    rows.append(("host heartbeat lost (3 s timeout)",
                 f"{first(hal.pilot_log, lambda d: d == 1000, t0)} ms: no offer (+12 V)",
                 f"{first(hal.relay_log, lambda c: not c, t_car)} ms after the car leaves C "
                 "(at most 3000 ms if it keeps drawing)"))
    for name, act in (("diode missing", lambda h: setattr(h, "car_diode", False)),
                      ("pilot shorted (state E)", lambda h: setattr(h, "pilot_shorted", True))):
        hal, bridge, host = make_bridge()
        start_charging(hal, bridge, host)
        act(hal)
        t0 = hal.now_us
        run_alive(hal, bridge, host, 300)
        rows.append((name, f"{first(hal.pilot_log, lambda d: d == 0, t0)} ms: -12 V (F), latched",
                     f"{first(hal.relay_log, lambda c: not c, t0)} ms"))
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.welded = True
    hal.car = "B"
    t0 = hal.now_us
    run_alive(hal, bridge, host, 1000)
    rows.append(("welded contact", f"{first(hal.pilot_log, lambda d: d == 0, t0)} ms: -12 V (F), "
                 "latched", "commanded open at once; fault after settle 500 ms + debounce"))
    hal, bridge, host = make_bridge()
    hal.stuck_open = True
    start_charging(hal, bridge, host)
    t0 = hal.relay_log[0][0]
    run_alive(hal, bridge, host, 1000)
    rows.append(("contactor stuck open", f"{first(hal.pilot_log, lambda d: d == 0, t0)} ms after "
                 "the close command: -12 V (F), latched",
                 f"{first(hal.relay_log, lambda c: not c, t0)} ms after the close command"))
    hal = SimHal()
    sup = Supervisor(hal, lambda r: Bridge(hal, None, (), r), 1000)
    sup.start()
    host_send = P.message
    for m in (host_send(P.HEARTBEAT, 1), host_send(P.SET_RELAY, 2, (1,)),
              host_send(P.SET_PILOT, 3, (160,))):
        hal.rx.extend(m)
    hal.car = "C"
    for _ in range(300):
        hal.advance(1000)
        sup.step()
    hal.fail_call = "read_pilot_mv"
    t0 = hal.now_us
    while sup.bridge is not None:
        hal.advance(1000)
        sup.step()
    t_fail = hal.now_us
    while sup.bridge is None:
        hal.advance(1000)
        sup.step()
    rows.append(("exception in any HAL call / the firmware",
                 "same step: -12 V (F); fresh start after 1000 ms (doubling if it repeats)",
                 f"same step (failure at {(t_fail - t0) / 1000:.0f} ms: the next pilot sample); "
                 f"restart {(hal.now_us - t_fail) / 1000:.0f} ms later"))
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    host.send(P.SET_RELAY, (0,))
    t0 = hal.now_us
    hal.run(bridge, 300)
    hal.car = "B"
    t_car = hal.now_us
    hal.run(bridge, 100)
    rows.append(("host disables charging (SET_RELAY 0)",
                 f"{first(hal.pilot_log, lambda d: d == 1000, t0)} ms: no offer (+12 V)",
                 f"{first(hal.relay_log, lambda c: not c, t_car)} ms after the car leaves C "
                 "(at most 3000 ms)"))
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.mains.enabled = False
    t0 = hal.now_us
    run_alive(hal, bridge, host, 400)
    faults = [f for f in host.poll() if f[0] == P.FAULT and f[2][1] & P.F_NO_MAINS]
    rows.append(("no zero crossings", "unchanged (droop off: the host's current holds)",
                 f"unchanged; F_NO_MAINS {'sent' if faults else 'NOT sent'} within 200-220 ms"))
    hal, bridge, host = make_bridge()
    start_charging(hal, bridge, host)
    hal.tx_capacity = 256
    hal.max_feed_gap_us = 0
    for _ in range(20):
        host.send(P.GET_STATUS)
        hal.run(bridge, 50)
    rows.append(("host stops reading", "unchanged; frames dropped and counted",
                 f"unchanged; longest loop stall {hal.max_feed_gap_us / 1000:.0f} ms"))
    table("Fault -> safe state (simulated time, 1 ms loop; from the fault or the last heartbeat)",
          ["fault", "pilot", "contactor"], rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    heap_table()
    freq_table(args.seconds)
    pilot_rows()
    safe_rows()


if __name__ == "__main__":
    main()
