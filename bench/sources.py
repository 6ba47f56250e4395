"""Cost of live prices and weather: CPU and memory of one fetch + parse per source, and the
resident memory of the agent's modules with every cache full.

The providers are local aiohttp servers answering in each provider's format (tests/sources/fakes),
sized as in real use: two weeks and two days of 15-min prices (the first fetch), 3 days of
15-min irradiance for two planes, 3 days of half-hourly Solcast. Each source is measured in a
fresh interpreter (python -X importtime noise excluded: the modules are imported first):
RSS before and after 20 fetches, CPU per fetch + parse (median). Then one more interpreter imports
the agent (hems.app, the web server), loads 35 days of 15-min prices and 15 days of PV forecast
from disk caches and builds the planner's 48 h view: its RSS is the agent's footprint with the
caches full, before devices and the store (see bench/footprint.py for those).

    .venv/bin/python bench/sources.py
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sources import fakes  # noqa: E402

DAY = date(2026, 1, 13)


def bodies() -> dict[str, tuple[str, str]]:
    """source -> (body, content type) for the server."""
    first = fakes.day_bounds(DAY - timedelta(days=14))[0]
    qs = [first + timedelta(minutes=15 * k) for k in range(16 * 96)]
    periods = [fakes.a44_period(*fakes.day_bounds(DAY - timedelta(days=14 - d)), "PT15M",
                                {k + 1: 50.0 + k for k in range(96)}) for d in range(16)]
    now = datetime(2026, 1, 13, 10, 0, tzinfo=timezone.utc)
    return {
        "entsoe": (fakes.a44(periods), "text/xml"),
        "energycharts": (fakes.energycharts(qs, [50.0 + k % 96 for k in range(len(qs))]), "application/json"),
        "awattar": (fakes.awattar([(t, t + timedelta(minutes=15), 50.0) for t in qs]), "application/json"),
        "octopus": (fakes.octopus([(first + timedelta(minutes=30 * k), 20.0) for k in range(16 * 48)]), "application/json"),
        "tibber": (fakes.tibber([(t, 0.3, 0.1) for t in qs[-192:-96]], [(t, 0.3, 0.1) for t in qs[-96:]]), "application/json"),
        "openmeteo": (fakes.openmeteo(now, [400.0] * (3 * 96)), "application/json"),
        "forecastsolar": (fakes.forecastsolar([(now + timedelta(hours=h), 1000.0) for h in range(72)]), "application/json"),
        "solcast": (fakes.solcast(now, [1.0] * 144), "application/json"),
    }


CHILD = r'''
import asyncio, json, resource, statistics, sys, time
from datetime import datetime, timedelta, timezone
sys.path.insert(0, {root!r})
import aiohttp
import hems.app, hems.web.server  # noqa: F401  (the agent's modules, loaded before measuring)
from hems.sources import entsoe, energycharts, awattar, octopus, tibber, openmeteo, forecastsolar, solcast
from hems.sources.planes import Plane

def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

url = {url!r}
name = {name!r}
planes = [Plane(4000, 30, 90), Plane(4000, 30, 270)]
src = {{
    "entsoe": lambda: entsoe.EntsoeSource("tok", "10YNL----------L", base_url=url),
    "energycharts": lambda: energycharts.EnergyChartsSource("NL", base_url=url),
    "awattar": lambda: awattar.AwattarSource("de", base_url=url + "/de"),
    "octopus": lambda: octopus.OctopusSource("AGILE-24-10-01", "C", "GBP", base_url=url),
    "tibber": lambda: tibber.TibberSource("tok", base_url=url),
    "openmeteo": lambda: openmeteo.OpenMeteoSource(48.8, 6.8, planes, base_url=url),
    "forecastsolar": lambda: forecastsolar.ForecastSolarSource(48.8, 6.8, planes, base_url=url),
    "solcast": lambda: solcast.SolcastSource("abcd-1234-ef56-7890", "k", base_url=url),
}}[name]()
now = datetime(2026, 1, 13, 10, 0, tzinfo=timezone.utc)
start, end = now - timedelta(days=14), now + timedelta(days=2)

async def main():
    before = rss_kb()
    cpu = []
    async with aiohttp.ClientSession() as s:
        for _ in range(20):
            t0 = time.thread_time()
            series = await (src.fetch(s, start, end, now) if hasattr(src, "currency") else src.fetch(s, now))
            cpu.append((time.thread_time() - t0) * 1000)
    print(json.dumps({{"n": len(series), "cpu_ms": statistics.median(cpu), "rss_before_kb": before,
                      "rss_after_kb": rss_kb(), "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
asyncio.run(main())
'''

FULL = r'''
import json, sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, {root!r})
import numpy as np
import hems.app, hems.web.server  # noqa: F401
from hems.domain.clock import ManualClock
from hems.sources.cache import SeriesCache
from hems.sources.series import Series
from hems.sources.pricefeed import PriceFeed
from hems.sources.pvfeed import PvFeed
from hems.sources.openmeteo import OpenMeteoSource
from hems.sources.entsoe import EntsoeSource
from hems.sources.planes import Plane
from tests.sources.test_feed import tariff

def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

base = rss_kb()
now = datetime(2026, 1, 13, 10, 0, tzinfo=timezone.utc)
d = {tmp!r}
t0 = (now - timedelta(days=35)).timestamp()
n = 37 * 96
SeriesCache(d + "/p.json").save(Series(t0 + 900.0 * np.arange(n), np.full(n, 900.0), np.sin(np.arange(n)) / 10, "entsoe"), now)
m = 18 * 96
SeriesCache(d + "/v.json").save(Series(t0 + 900.0 * np.arange(m), np.full(m, 900.0), np.full(m, 1000.0), "openmeteo"), now)
clock = ManualClock(now)
pf = PriceFeed(tariff(), "Europe/Amsterdam", clock, source=EntsoeSource("t", "10YNL----------L"), cache=SeriesCache(d + "/p.json"))
vf = PvFeed(OpenMeteoSource(48.8, 6.8, [Plane(4000, 30, 90)]), clock, longitude_deg=6.8, peak_w=4000, cache=SeriesCache(d + "/v.json"))
times = [now + timedelta(minutes=15 * k) for k in range(192)]
hist = np.array([now - timedelta(minutes=15 * k) for k in range(28 * 96, 0, -1)])
import time as _t
c0 = _t.thread_time()
v = pf.view(times, now)
pv = vf.view(times, now, np.zeros(192), hist, np.full(len(hist), 800.0))
ms = (_t.thread_time() - c0) * 1000
print(json.dumps({{"base_kb": base, "full_kb": rss_kb(), "view_ms": ms}}))
'''


async def main() -> int:
    from aiohttp import web
    served = bodies()
    current = {"name": ""}

    async def handler(request: web.Request) -> web.Response:
        body, ctype = served[current["name"]]
        return web.Response(text=body, content_type=ctype)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"   # type: ignore[union-attr]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for name in served:
        current["name"] = name
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD.format(root=str(ROOT), url=url, name=name),
                                                    stdout=asyncio.subprocess.PIPE, env=env)
        out, _ = await proc.communicate()
        r = json.loads(out)
        rows.append((name, len(served[name][0]) / 1024, r["n"], r["cpu_ms"], (r["rss_after_kb"] - r["rss_before_kb"]) / 1024,
                     r["rss_after_kb"] / 1024))
    await runner.cleanup()
    with tempfile.TemporaryDirectory() as tmp:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", FULL.format(root=str(ROOT), tmp=tmp),
                                                    stdout=asyncio.subprocess.PIPE, env=env)
        out, _ = await proc.communicate()
    full = json.loads(out)
    print("| source | answer KiB | intervals | CPU per fetch+parse (median of 20) | RSS growth over 20 fetches | RSS after |")
    print("|---|---|---|---|---|---|")
    for name, kib, n, cpu, grow, rss in rows:
        print(f"| {name} | {kib:.0f} | {n} | {cpu:.1f} ms | {grow:+.1f} MiB | {rss:.1f} MiB |")
    print()
    print("| agent modules + caches full (35 d of 15-min prices, 15 d PV) | RSS |")
    print("|---|---|")
    print(f"| after import of hems.app and the web server | {full['base_kb'] / 1024:.1f} MiB |")
    print(f"| caches loaded, 48 h price + PV view built ({full['view_ms']:.0f} ms CPU) | {full['full_kb'] / 1024:.1f} MiB |")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
