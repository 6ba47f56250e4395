"""OCPP setpoint latency and memory per connected charger, on loopback.

Latency: `OcppCharger.write_power()` -> SetChargingProfile sent over a real websocket -> the
simulated station (the `ocpp` library in the charge point role) validates it, installs it and
answers Accepted -> write_power returns. Both sides validate every message against the OCPP JSON
schemas, as in production. Goal: p99 <= 100 ms.
Memory: Python memory the server side holds (tracemalloc) before and after N charge points
connect, boot and send meter values, divided by N (the stations run in a child process, so only
the server side is counted).

    .venv/bin/python bench/ocpp_latency.py [--setpoints 300] [--chargers 50]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hems.devices.ocpp import Electrical, OcppCharger, OcppServer, OcppSettings  # noqa: E402
from hems.devices.sim.ocpp import SimStation  # noqa: E402
from hems.devices.sim.plant import ChargePoint, ChargerSpec  # noqa: E402

VERSIONS = ("1.6", "2.0.1", "2.1")


def make(n: int, port: int = 0) -> tuple[OcppServer, list[OcppCharger]]:
    server = OcppServer(OcppSettings(bind="127.0.0.1", port=port, meter_interval_s=10.0))
    chargers = []
    for i in range(n):
        c = OcppCharger(f"c{i}", f"CP-{i}", server, electrical=Electrical(3, 230.0), validity_s=60.0)
        server.add(c)
        chargers.append(c)
    return server, chargers


async def latency(version: str, count: int) -> list[float]:
    server, (charger,) = make(1)
    await charger.connect()
    plant = ChargePoint(ChargerSpec(phases=3, max_current_a=32), soc_pct=50)
    station = SimStation(f"ws://127.0.0.1:{server.port}/ocpp/CP-0", version, plant=plant)
    await station.start()
    await station.wait_for(lambda: station.transaction_id is not None, 10)
    await charger.write_power(4200.0)                        # warm-up (schema caches)
    out = []
    for i in range(count):
        power_w = 4200.0 + (i % 20) * 300.0 if version != "2.1" or i % 2 else -4200.0 - (i % 20) * 200.0
        t0 = time.perf_counter()
        await charger.write_power(power_w)
        out.append((time.perf_counter() - t0) * 1000)
    await station.stop()
    await server.stop()
    return out


CHILD = """
import asyncio, sys
sys.path.insert(0, {root!r})
from hems.devices.sim.ocpp import SimStation
async def main():
    stations = [SimStation(f"ws://127.0.0.1:{port}/ocpp/CP-{{i}}", {version!r}) for i in range({n})]
    for s in stations:
        await s.start()
    for s in stations:
        await s.connected.wait()
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def memory(version: str, n: int) -> float:
    import gc
    import tracemalloc

    server, chargers = make(n)
    for c in chargers:
        await c.connect()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(Path(__file__).resolve().parents[1]),
                                                                  port=server.port, version=version, n=n)],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.to_thread(child.stdout.readline)
        assert line.strip() == "ready", line
        while not all(c.session is not None and c.identity.vendor for c in chargers):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)                             # boots, configuration, first meter values
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    finally:
        child.terminate()
        child.wait(10)
        await server.stop()
    return (after - before) / n / 1024


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main(setpoints: int, n: int) -> None:
    print(f"OCPP on loopback: {setpoints} setpoints per version, memory with {n} charge points")
    print(f"{'version':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'KiB/charger':>12}")
    for version in VERSIONS:
        lat = await latency(version, setpoints)
        mem = await memory(version, n)
        print(f"{version:<8} {statistics.median(lat):8.2f} {pct(lat, 99):8.2f} {max(lat):8.2f} {mem:12.0f}")
    print("goal: p99 <= 100 ms (setpoint -> SetChargingProfile accepted)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setpoints", type=int, default=300)
    parser.add_argument("--chargers", type=int, default=50)
    a = parser.parse_args()
    asyncio.run(main(a.setpoints, a.chargers))
