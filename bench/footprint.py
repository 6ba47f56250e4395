"""Footprint of the agent: memory, CPU per loop tick and per replan, SQLite writes, start-up.

Three processes: this one (starts the others, prints the table), the simulated home (three
Modbus TCP servers, hems.demo.make_home) and the agent process, built exactly as `hems run`
builds it (hems.app.build_agent, plus the web UI from hems.web.server.create_web_app). Both
children read one simulated clock from a small shared file; the agent process advances it and
calls `agent.tick()` every --tick-s simulated seconds, as tests/simhome.py does with a manual
clock. Memory and CPU are of the agent process alone: neither the simulated home nor this
script's imports count.

Measured (on the machine that runs it; the target is a Raspberry Pi 4):
- RSS (VmRSS) of the agent process: interpreter only, after `import hems.app`, after start on
  the simulated home, then every simulated hour (growth = leak check; gc-tracked objects too);
- CPU (thread time of the loop) per tick: poll the devices over Modbus TCP, assemble the state,
  store it, decide, clamp, write; and per replan (forecast + solve + envelope in the worker
  thread), split into its parts;
- the share of one core at --tick-s in real time: process CPU over the run / simulated seconds;
- SQLite: growth of hems.sqlite (+ WAL) and bytes passed to write()/pwrite() per simulated hour;
- wall time of `import hems.app` in a fresh interpreter.

The store flushes every `flush_interval_s` seconds of its monotonic clock (wall time in
`hems run`); here that clock is the simulated one, so batching per simulated hour is as on a Pi.

    .venv/bin/python bench/footprint.py [--hours 3] [--tick-s 2] [--start ISO] [--json out.json]
        [--history-days 28]     start with a full history (the forecaster reads 28 days per replan)
        [--trace]               tracemalloc: allocation sites that grew from hour 1 to the end
"""
from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# --- shared simulated clock ---------------------------------------------------------------
class SharedClock:
    """A manual clock (hems.domain.clock.ManualClock semantics) whose time, in integer
    microseconds since the epoch, lives in an 8-byte file mapped by both child processes."""

    def __init__(self, path: str | Path, start: datetime | None = None) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if start is not None:
                os.ftruncate(fd, 8)
            self._map = mmap.mmap(fd, 8)
        finally:
            os.close(fd)
        if start is not None:
            self._set(_us(start))

    def _get(self) -> int:
        return struct.unpack_from("<q", self._map)[0]

    def _set(self, us: int) -> None:
        struct.pack_into("<q", self._map, 0, us)

    def now(self) -> datetime:
        return EPOCH + timedelta(microseconds=self._get())

    def seconds(self) -> float:
        return self._get() / 1e6

    def monotonic(self) -> float:
        return self.seconds()

    def advance(self, duration_s: float) -> None:
        self._set(self._get() + round(duration_s * 1e6))

    async def sleep(self, duration_s: float) -> None:
        import asyncio
        await asyncio.sleep(0)


def _us(t: datetime) -> int:
    delta = t.astimezone(timezone.utc) - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- /proc readings --------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if field == "VmHWM" else -1


def rss_kb() -> int:
    return _status_kb("VmRSS")


def written_bytes() -> int:
    """Bytes this process passed to write()/pwrite() (SQLite pages and WAL frames, log lines)."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("hems.sqlite*") if p.is_file())


# --- the simulated home process ----------------------------------------------------------------
async def serve_home(clock_path: str, start_iso: str, data_dir: str) -> None:
    """Serve the simulated home until stdin closes; print its ports first, its totals last."""
    import asyncio
    from dataclasses import replace

    from hems.demo import make_home
    from tests.simhome import sim_config

    clock = SharedClock(clock_path)
    config = sim_config(Path(data_dir))
    home = make_home(config, clock, datetime.fromisoformat(start_iso), replace(config.sim, seed=1))
    home.ports = {"meter": 0, "pv": 0, "charger": 0}
    await home.start()
    print(json.dumps({"ports": home.ports}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"trips": len(home.trips), "car_plugged": home.car_plugged,
                      "ev_charged_wh": round(home.energy.ev_charged_wh),
                      "ev_discharged_wh": round(home.energy.ev_discharged_wh),
                      "car_soc_pct": round(home.car_soc_pct, 1), "cpu_s": cpu_s()}), flush=True)
    await home.stop()


# --- the agent process --------------------------------------------------------------------------
class PartTimer:
    """Wraps a function and keeps the calling thread's CPU seconds per call."""

    def __init__(self, fn) -> None:
        self.fn, self.cpu_s = fn, []

    def __call__(self, *args, **kwargs):
        t0 = time.thread_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.cpu_s.append(time.thread_time() - t0)


def prefill_history(store, now: datetime, days: float) -> None:
    """`days` of minute rows before `now` (synthetic values: only the volume matters here)."""
    from hems.store.minute import ROW_COLUMNS

    first = int(now.timestamp()) // 60 * 60 - int(days * 86400)
    means = (400.0, 400.0, 0.0, 1500.0, 0.0, 0.0, 0.0, 1100.0)
    rows = [(first + 60 * k, 30, *means, 50.0, 0.01) for k in range(int(days * 1440))]
    marks = ", ".join("?" for _ in ROW_COLUMNS)
    with store.transaction() as c:
        c.executemany(f"INSERT INTO measurements ({', '.join(ROW_COLUMNS)}) VALUES ({marks})", rows)


async def start_agent(clock: SharedClock, ports: dict[str, int], data: Path, history_days: float = 0.0):
    """The agent as `hems run` wires it (store, forecaster, planner, pollers, web UI), started."""
    import hems.app
    import hems.planner
    from aiohttp import web
    from hems.web.server import create_web_app
    from tests.simhome import sim_config

    # Instrument the replan's parts; make_replan binds these names when build_agent runs.
    timers = {"solve": PartTimer(hems.planner.solve), "envelope": PartTimer(hems.planner.flexibility)}
    hems.planner.solve, hems.planner.flexibility = timers["solve"], timers["envelope"]
    config = sim_config(data, free_port(), devices={r: {"port": p} for r, p in ports.items()})
    agent, store, forecaster = hems.app.build_agent(config, clock)
    if history_days:
        prefill_history(store, clock.now(), history_days)
    store._monotonic = clock.seconds            # batch by simulated time, as a Pi does in real time
    store._last_flush = clock.seconds()
    timers["forecast"] = forecaster.forecast = PartTimer(forecaster.forecast)
    timers["replan"] = agent._replan_fn = PartTimer(agent._replan_fn)
    await agent.start()
    runner = web.AppRunner(create_web_app(agent, store, config, clock), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.web.bind, config.web.port).start()
    return agent, store, runner, timers


async def run_agent(clock_path: str, ports: dict[str, int], data_dir: str, hours: float,
                    tick_s: float, before_import_kb: int, trace: bool = False,
                    history_days: float = 0.0) -> dict:
    t0 = time.perf_counter()
    import hems.app  # noqa: F401
    import_s = time.perf_counter() - t0
    after_import_kb = rss_kb()

    import gc

    clock = SharedClock(clock_path)
    data = Path(data_dir)
    agent, store, runner, timers = await start_agent(clock, ports, data, history_days)
    started_kb = rss_kb()
    sim_modules = sorted(m for m in sys.modules if m.startswith("hems.devices.sim"))

    n_ticks = int(hours * 3600 / tick_s)
    per_hour = int(3600 / tick_s)
    # Preallocated and written once, so the bench's own records do not grow the RSS it measures.
    tick_cpu, tick_wall = array("d", [0.0]) * n_ticks, array("d", [0.0]) * n_ticks
    samples: list[dict] = []
    snapshots = []

    def sample(i: int) -> None:
        (pages, ), = store.query("PRAGMA page_count")
        (page_size, ), = store.query("PRAGMA page_size")
        samples.append({"sim_h": i * tick_s / 3600, "rss_kb": rss_kb(), "gc_objects": len(gc.get_objects()),
                        "db_bytes": db_bytes(data), "db_logical_bytes": pages * page_size,
                        "wchar": written_bytes(), "flushes": store.flush_count})

    if trace:
        import tracemalloc
        tracemalloc.start(12)
    cpu0, wall0 = cpu_s(), time.perf_counter()
    sample(0)
    for i in range(1, n_ticks + 1):
        clock.advance(tick_s)
        c, w = time.thread_time(), time.perf_counter()
        await agent.tick(wait_for_plan=True)
        tick_cpu[i - 1] = time.thread_time() - c
        tick_wall[i - 1] = time.perf_counter() - w
        if i % per_hour == 0 or i == n_ticks:
            sample(i)
            if trace and (i == per_hour or i == n_ticks):
                snapshots.append(tracemalloc.take_snapshot())
    run_cpu, run_wall = cpu_s() - cpu0, time.perf_counter() - wall0
    plan = agent.plan
    await agent.stop()
    await runner.cleanup()
    setpoints = len(store.setpoints(EPOCH, clock.now() + timedelta(seconds=1)))
    plan_json_bytes = store.query("SELECT length(summary_json) FROM plans")
    store.close()
    return {
        "import_s": import_s, "before_import_kb": before_import_kb, "after_import_kb": after_import_kb,
        "started_kb": started_kb, "peak_kb": _status_kb("VmHWM"), "samples": samples,
        "tick_cpu_s": tick_cpu.tolist(), "tick_wall_s": tick_wall.tolist(),
        "trace": _growth(snapshots) if trace else [],
        "parts_cpu_s": {k: t.cpu_s for k, t in timers.items()},
        "run_cpu_s": run_cpu, "run_wall_s": run_wall, "sim_s": n_ticks * tick_s,
        "replans": len(timers["replan"].cpu_s), "plan_intervals": 0 if plan is None else len(plan.ev_w),
        "setpoints": setpoints, "plan_json_bytes": plan_json_bytes[0][0] if plan_json_bytes else 0,
        "final_db_bytes": db_bytes(data), "sim_modules_in_agent": sim_modules,
        "threads": len(os.listdir("/proc/self/task")),
    }


def _growth(snapshots: list) -> list[str]:
    """The allocation sites that grew most between the first hour and the end (--trace)."""
    if len(snapshots) < 2:
        return []
    stats = snapshots[-1].compare_to(snapshots[0], "traceback")
    out = []
    for stat in stats[:8]:
        frames = [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in reversed(stat.traceback)]
        out.append(f"{stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+6d} blocks  " + " <- ".join(frames[:6]))
    return out


# --- the parent: start, collect, print ----------------------------------------------------------
def import_times(n: int) -> tuple[float, float]:
    """(median in-process seconds of `import hems.app`, median extra process wall seconds)."""
    code = "import time; t = time.perf_counter(); import hems.app; print(time.perf_counter() - t)"
    inner, extra = [], []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=ROOT)
        bare = time.perf_counter() - t
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
        extra.append(time.perf_counter() - t - bare)
        inner.append(float(out.stdout.strip()))
    return statistics.median(inner), statistics.median(extra)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))] if s else float("nan")


def measure(hours: float, tick_s: float, start: datetime, trace: bool = False,
            history_days: float = 0.0) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="hems-footprint-") as tmp:
        clock_path = os.path.join(tmp, "clock")
        SharedClock(clock_path, start)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        home = subprocess.Popen([sys.executable, __file__, "--child", "home", "--clock", clock_path,
                                 "--start", start.isoformat(), "--data", os.path.join(tmp, "home")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        try:
            ports = json.loads(home.stdout.readline())["ports"]
            agent = subprocess.run([sys.executable, __file__, "--child", "agent", "--clock", clock_path,
                                    "--ports", json.dumps(ports), "--data", os.path.join(tmp, "agent"),
                                    "--hours", str(hours), "--tick-s", str(tick_s),
                                    "--history-days", str(history_days)] + ["--trace"] * trace,
                                   capture_output=True, text=True, cwd=ROOT, env=env)
            if agent.returncode != 0:
                raise SystemExit(f"agent process failed:\n{agent.stderr[-4000:]}")
            result = json.loads(agent.stdout.strip().splitlines()[-1])
            home_out, _ = home.communicate("", timeout=30)
            totals = json.loads(home_out.strip().splitlines()[-1])
        finally:
            if home.poll() is None:
                home.kill()
    return result, totals


def report(r: dict, totals: dict, imports: tuple[float, float], tick_s: float) -> list[str]:
    mib = lambda kb: f"{kb / 1024:7.1f} MiB"  # noqa: E731
    ms = lambda s: f"{s * 1000:8.2f} ms"  # noqa: E731
    samples = r["samples"]
    sim_h = r["sim_s"] / 3600
    first = samples[1] if len(samples) > 2 else samples[0]     # leave the first hour's warm-up out
    last = samples[-1]
    span_h = max(1e-9, last["sim_h"] - first["sim_h"])
    parts = r["parts_cpu_s"]
    replans = parts["replan"][1:] or parts["replan"]       # the first one also loads data
    ticks = r["tick_cpu_s"][1:]                            # the first one also discovers SunSpec
    wchar = [s["wchar"] for s in samples]
    lines = [
        f"machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"(target: Raspberry Pi 4; expect several times the CPU figures there)",
        f"run: {sim_h:g} simulated h at {tick_s:g} s ticks ({len(r['tick_cpu_s'])} ticks, {r['replans']} replans, "
        f"{totals['trips']} car trips back, car {'plugged' if totals['car_plugged'] else 'away'} at the end, "
        f"{r['setpoints']} setpoints stored) in {r['run_wall_s']:.1f} s wall; the simulated home "
        f"(not counted) used {totals['cpu_s']:.1f} s CPU",
        "",
        "| what | value |",
        "|---|---|",
        f"| RSS, interpreter before import | {mib(r['before_import_kb'])} |",
        f"| RSS after `import hems.app` | {mib(r['after_import_kb'])} |",
        f"| RSS after start (3 devices connected, web UI up) | {mib(r['started_kb'])} |",
    ]
    for s in samples[1:]:
        if s is samples[-1] or s["sim_h"] in (1.0,):
            lines.append(f"| RSS after {s['sim_h']:g} simulated h | {mib(s['rss_kb'])} |")
    lines += [
        f"| RSS peak (VmHWM) | {mib(r['peak_kb'])} |",
        f"| RSS growth {first['sim_h']:g} h -> {last['sim_h']:g} h | "
        f"{(last['rss_kb'] - first['rss_kb']) / span_h:+.0f} KiB per simulated h |",
        f"| gc-tracked objects {first['sim_h']:g} h -> {last['sim_h']:g} h | "
        f"{first['gc_objects']} -> {last['gc_objects']} ({(last['gc_objects'] - first['gc_objects']) / span_h:+.0f}/h) |",
        f"| CPU per tick, p50 / p95 / max | {ms(pct(ticks, 50))} / {ms(pct(ticks, 95))} / {ms(max(ticks))} |",
        f"| wall per tick (Modbus round trips), p50 / p95 | {ms(pct(r['tick_wall_s'][1:], 50))} / "
        f"{ms(pct(r['tick_wall_s'][1:], 95))} |",
        f"| CPU per replan, p50 / p95 (first: {ms(parts['replan'][0]).strip()}) | "
        f"{ms(pct(replans, 50))} / {ms(pct(replans, 95))} |",
    ]
    for name in ("forecast", "solve", "envelope"):
        vals = parts[name][1:] or parts[name]
        lines.append(f"| - of which {name}, p50 / p95 | {ms(pct(vals, 50))} / {ms(pct(vals, 95))} |")
    loop_share = sum(r["tick_cpu_s"]) / r["sim_s"]
    replan_share = sum(parts["replan"]) / r["sim_s"]
    lines += [
        f"| CPU share of one core at {tick_s:g} s ticks: whole process | {100 * r['run_cpu_s'] / r['sim_s']:.2f} % |",
        f"| - loop ticks / replans | {100 * loop_share:.3f} % / {100 * replan_share:.3f} % |",
        f"| - from p50 tick cost alone (p50 / {tick_s:g} s) | {100 * pct(ticks, 50) / tick_s:.2f} % |",
        f"| SQLite database growth (page_count x page_size) | "
        f"{(last['db_logical_bytes'] - first['db_logical_bytes']) / span_h / 1024:.1f} KiB per simulated h |",
        f"| bytes written (write()/pwrite(): WAL frames, checkpoints, logs) | "
        f"{(wchar[-1] - first['wchar']) / span_h / 1024:.1f} KiB per simulated h "
        f"({(last['flushes'] - first['flushes']) / span_h:.0f} batched commits/h) |",
        f"| files at the end: hems.sqlite + WAL / after close | {last['db_bytes'] / 1024:.0f} KiB / "
        f"{r['final_db_bytes'] / 1024:.0f} KiB (latest plan JSON {r['plan_json_bytes'] / 1024:.0f} KiB) |",
        f"| `import hems.app`, fresh interpreter (median of 3) | {ms(imports[0])} in process, "
        f"{ms(imports[1]).strip()} extra process wall |",
    ]
    if r["sim_modules_in_agent"]:
        lines.append(f"warning: the agent process imported {r['sim_modules_in_agent']}")
    return lines


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hours", type=float, default=3.0, help="simulated hours (default 3)")
    p.add_argument("--tick-s", type=float, default=2.0, help="loop interval in simulated s (default 2)")
    p.add_argument("--start", default="2024-06-03T05:00:00+02:00",
                   help="simulated start, local time with offset (default Monday 05:00: departure, sunrise)")
    p.add_argument("--json", help="also write the raw measurements here")
    p.add_argument("--history-days", type=float, default=0.0,
                   help="start with this many days of minute history in the store (default 0)")
    p.add_argument("--trace", action="store_true",
                   help="diagnose memory growth with tracemalloc (slower; skews CPU and RSS)")
    p.add_argument("--child", choices=("home", "agent"), help=argparse.SUPPRESS)
    p.add_argument("--clock", help=argparse.SUPPRESS)
    p.add_argument("--ports", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child == "home":
        import asyncio
        asyncio.run(serve_home(args.clock, args.start, args.data))
        return 0
    if args.child == "agent":
        before_kb = rss_kb()
        import asyncio
        result = asyncio.run(run_agent(args.clock, json.loads(args.ports), args.data, args.hours,
                                       args.tick_s, before_kb, args.trace, args.history_days))
        print(json.dumps(result))
        return 0
    start = datetime.fromisoformat(args.start).astimezone(timezone.utc)
    imports = import_times(3)
    result, totals = measure(args.hours, args.tick_s, start, args.trace, args.history_days)
    if args.json:
        Path(args.json).write_text(json.dumps({"agent": result, "home": totals, "import_s": imports}))
    print("\n".join(report(result, totals, imports, args.tick_s)))
    if result["trace"]:
        print("\nallocation growth, first hour -> end (tracemalloc; the CPU and RSS figures above "
              "include its overhead):")
        print("\n".join(result["trace"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
