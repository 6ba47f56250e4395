"""Robustness campaign: faults and hostile input on the simulated home, as one table.

Everything real on loopback: the simulated home served over Modbus TCP behind a fault proxy
(tests/chaos), the agent as `hems run` builds it, a safety monitor on the simulated physics, a
local mosquitto with mutual TLS and the aggregator link, the web app over HTTP, SQLite on disk
(a 1 MiB tmpfs for the full-disk case when run as root), kill -9 of a writing process.

Scenarios: every Modbus fault (delay, drop, garble, exception, disconnect, dead, implausible
values) on the meter, the charger and the PV inverter; wall-clock steps both ways; the meter
dying while the car discharges for the aggregator, and discharge reaching the reserve; a broker
restart; a junk flood with a signed dispatch inside; kill -9 during store flushes; a full disk.
Fuzz: >= 100,000 inputs into every parser (MQTT envelopes and dispatch, HTTP bodies over HTTP
and at the parser, strict JSON, Modbus register decoding, bridge serial frames), counting
unhandled exceptions. Goals: 0 unhandled exceptions, 0 invariant violations, 0 data lost.

    .venv/bin/python bench/robustness.py [--fuzz 100000] [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos.faultproxy import MODES  # noqa: E402
from tests.chaos.rig import ChaosRig  # noqa: E402
from tests.chaos.scenarios import Outcome, clock_step, discharge_faults, modbus_fault, table_row  # noqa: E402
from tests.robustness.fuzz import Fuzzer  # noqa: E402


# --- fault scenarios --------------------------------------------------------------------
async def modbus_scenarios(workdir: Path, fault_s: float) -> list[Outcome]:
    out: list[Outcome] = []
    for role in ("meter", "charger", "pv"):
        async with ChaosRig(workdir / role) as rig:
            for mode in MODES:
                if mode != "normal":
                    out.append(await modbus_fault(rig, role, mode, fault_s=fault_s))
    async with ChaosRig(workdir / "clock") as rig:
        for offset_s in (-3600.0, 3600.0, -400 * 86400.0, 400 * 86400.0):
            out.append(await clock_step(rig, offset_s))
    async with ChaosRig(workdir / "v2g") as rig:
        out += await discharge_faults(rig)
    return out


@contextlib.asynccontextmanager
async def link_home(workdir: Path):
    """A mosquitto with mutual TLS, the link on an in-test agent, the aggregator and a flooder."""
    from hems.aggregator.aggregator_client import AggregatorClient
    from hems.aggregator.auth import HmacKey
    from hems.aggregator.link import AggregatorLink
    from hems.aggregator.localbroker import Broker, make_pki
    from hems.domain.clock import SystemClock
    from hems.store import Store
    from tests.aggregator.conftest import SITE, aggregator_settings, link_config
    from tests.aggregator.home import HomeAgent
    from tests.conftest import free_port

    broker = Broker(workdir / "broker", free_port(), make_pki(workdir / "pki"))
    broker.start()
    (workdir / "site.key").write_text((b"r" * 32).hex())
    key = HmacKey(b"r" * 32)
    clock = SystemClock()
    store = Store(workdir / "link.sqlite", clock=clock)
    link = AggregatorLink(link_config(broker, workdir / "site.key", telemetry_interval_s=600), HomeAgent(clock),
                          store, clock)
    await link.start()
    agg = AggregatorClient(aggregator_settings(broker), SITE, key, reply_verifier=key)
    flood = AggregatorClient(aggregator_settings(broker, "flooder"), SITE, HmacKey(b"w" * 32))
    await agg.start()
    await flood.start()
    await asyncio.wait_for(link.mqtt.connected.wait(), 10)
    try:
        yield broker, link, agg, flood, store
    finally:
        await flood.stop()
        await agg.stop()
        await link.stop()
        store.close()
        broker.stop()


async def broker_restart(broker, link, agg, store, counter: "_LogCounter") -> tuple[Outcome, int]:
    """The broker restarts: the link reconnects by itself and answers the next dispatch."""
    o = Outcome("broker restart", 0.0)
    lines0 = counter.lines
    t0 = time.monotonic()
    await asyncio.to_thread(broker.restart)
    await _wait(lambda: link.mqtt.connected.is_set() and agg.mqtt.connected.is_set(), 30)
    reply = await agg.send("event", start=link.clock.now(), duration_s=600, target_w=-5000, timeout_s=30)
    o.recovery_s = o.fault_s = time.monotonic() - t0
    o.log_lines = counter.lines - lines0
    o.ok = reply["status"] == "accepted"
    lost = int(store.query("SELECT count(*) FROM agg_log WHERE msg_id = ?", (reply["in_reply_to"],))[0][0] != 1)
    return o, lost


async def junk_flood(link, agg, flood, counter: "_LogCounter") -> Outcome:
    """10,000 unsigned junk messages with a signed dispatch in the middle: it is answered."""
    o = Outcome("MQTT flood: 10,000 junk", 0.0)
    lines0, tb0 = counter.lines, counter.tracebacks
    t0 = time.monotonic()
    valid = None
    for i in range(10_000):
        junk = json.dumps({"v": 1, "alg": "hmac-sha256", "msg": json.dumps({"n": i}), "sig": "AA=="}).encode()
        flood.mqtt._client.publish(flood.topics.dispatch, junk, qos=0)
        if i == 5_000:
            valid = asyncio.ensure_future(agg.send("event", start=link.clock.now(), duration_s=600,
                                                   target_w=-4000, timeout_s=60))
        if i % 250 == 0:
            await asyncio.sleep(0)
    reply = await valid
    o.recovery_s = o.fault_s = time.monotonic() - t0
    o.log_lines = counter.lines - lines0
    o.tracebacks = counter.tracebacks - tb0
    o.ok = reply["status"] in ("accepted", "modified") and link.mqtt.messages.dropped[0] == 0
    o.note = f"{link.mqtt.messages.dropped[1]} junk dropped"
    return o


async def mqtt_fuzz(link, agg, flood, n: int) -> None:
    """n fuzzed payloads (mutated signed dispatch, junk envelopes, hostile JSON, bytes)."""
    from hems.aggregator.messages import seal_dispatch
    fuzz = Fuzzer(seed=23)
    signed = seal_dispatch(agg.message("event", start=link.clock.now(), duration_s=600, target_w=-3000), agg.signer)
    for i in range(n):
        flood.publish_raw(fuzz.mqtt_payload(signed)[:16_000], correlation=f"f{i}".encode())
        if i % 250 == 0:
            await asyncio.sleep(0)
    await _wait(lambda: link.mqtt.messages.empty(), 60)


async def mqtt_scenarios(workdir: Path) -> tuple[list[Outcome], dict[str, int]]:
    """Broker restart, a junk flood, and the MQTT fuzz (counted as inputs)."""
    counter = _LogCounter()
    logging.getLogger().addHandler(counter)
    try:
        async with link_home(workdir) as (broker, link, agg, flood, store):
            restart, lost = await broker_restart(broker, link, agg, store, counter)
            flooded = await junk_flood(link, agg, flood, counter)
            tb0 = counter.tracebacks
            await mqtt_fuzz(link, agg, flood, 10_000)
            tracebacks = counter.tracebacks - tb0
    finally:
        logging.getLogger().removeHandler(counter)
    return [restart, flooded], {"mqtt_inputs": 20_000, "mqtt_tracebacks": tracebacks, "accepted_lost": lost}


def kill9_scenarios(workdir: Path, runs: int) -> tuple[Outcome, int]:
    """kill -9 while the store flushes: every flush reported committed must be on disk."""
    import sqlite3
    o = Outcome(f"kill -9 during flushes x{runs}", 0.0)
    lost = 0
    for k in range(runs):
        db = workdir / f"kill{k}.sqlite"
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests/store/writer_proc.py"), str(db)],
                                stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        committed = 0
        try:
            for line in proc.stdout:
                _, events, flushes = line.split()
                committed = int(events)
                if int(flushes) >= 5 + 3 * k:
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        with sqlite3.connect(db) as c:
            ok = c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            have = {m for (m,) in c.execute("SELECT message FROM events")}
        lost += sum(f"event {i}" not in have for i in range(1, committed + 1)) + (0 if ok else 1)
    o.ok, o.note = lost == 0, f"{lost} committed rows lost"
    return o, lost


def disk_full_scenario(workdir: Path) -> tuple[Outcome, int]:
    """The disk fills up under the store: reported as such, rows kept, all saved once freed."""
    from datetime import datetime, timezone

    from hems.domain import Setpoint
    from hems.domain.clock import ManualClock
    from hems.store import Store
    from tests.robustness.conftest import fill, free, mount_tiny_disk

    mnt = workdir / "tiny"
    real = mount_tiny_disk(mnt, 1024)
    o = Outcome("disk full (" + ("1 MiB tmpfs" if real else "SQLite page cap") + ")", 0.0)
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    store = Store(mnt / "h.sqlite", clock=clock, flush_interval_s=1e9)
    try:
        if real:
            fill(mnt)
        else:
            store.query(f"PRAGMA max_page_count = {store.query('PRAGMA page_count')[0][0] + 2}")
        for i in range(500):
            store.add_setpoint(Setpoint(at=clock.now(), ev_power_w=float(i), reason="x" * 100, clamped_by=()))
        failed = store.flush() == 0 and "disk is full" in (store.last_error or "")
        if real:
            free(mnt)
        else:
            store.query("PRAGMA max_page_count = 1000000")
        saved = store.flush()
        lost = 500 - len(store.setpoints(clock.now().replace(year=2025), clock.now().replace(year=2027)))
        o.ok = failed and saved == 500 and lost == 0
        o.note = f"{lost} rows lost" + ("" if failed else "; the cause was not reported")
    finally:
        store.close()
        if real:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    return o, lost


# --- fuzz ------------------------------------------------------------------------------
def _parsers(fuzz: Fuzzer, loop: asyncio.AbstractEventLoop) -> list:
    """One zero-argument check per parser: feed it one fuzzed input; its own refusal is fine, a
    value past it must be finite, anything else raised is a defect."""
    from datetime import datetime, timezone

    from aiohttp.test_utils import make_mocked_request

    from firmware_bridge import protocol as P
    from hems.aggregator.auth import HmacKey
    from hems.aggregator.messages import Codec, Refusal, format_time, seal_dispatch
    from hems.devices.modbus.codec import TYPES, CodecError, decode, register_count
    from hems.domain import strictjson
    from hems.web.errors import ApiError
    from hems.web.validate import body_json
    from tests.robustness.test_parser_properties import all_finite

    rng, key, types = fuzz.rng, HmacKey(b"z" * 32), sorted(TYPES)
    codec = Codec("s1", key, key)
    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    signed = seal_dispatch({"v": 1, "kind": "event", "id": "e", "site_id": "s1", "seq": 1,
                            "issued_at": format_time(now), "expires_at": "2026-06-01T12:10:00Z",
                            "start": format_time(now), "duration_s": 900, "target_w": -3000}, key)

    def mqtt() -> None:
        with contextlib.suppress(Refusal):
            assert all_finite(codec.open(fuzz.mqtt_payload(signed), now).body)

    def json_text() -> None:
        with contextlib.suppress(strictjson.StrictJsonError):
            assert all_finite(strictjson.loads(fuzz.body({"mode": "smart"})))

    async def http_body(raw: bytes, ctype: str) -> dict:
        req = make_mocked_request("POST", "/api/v1/x", headers={"Content-Type": ctype})
        req._read_bytes = raw
        return await body_json(req, allowed={"mode", "reserve_pct", "username", "password"})

    def http() -> None:
        with contextlib.suppress(ApiError):
            assert all_finite(loop.run_until_complete(http_body(fuzz.body({"mode": "smart"}), fuzz.content_type())))

    def modbus() -> None:
        t = rng.choice(types)
        count = register_count(t, rng.randint(1, 8)) if rng.random() < 0.9 else rng.randint(0, 6)
        with contextlib.suppress(CodecError):
            value = decode([rng.randint(0, 0xFFFF) for _ in range(count)], t, rng.choice(["big", "little"]),
                           sunspec=rng.random() < 0.5)
            assert all_finite(value)

    def bridge() -> None:
        chunk = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 120)))
        if rng.random() < 0.3:       # a well-framed message of any type and payload
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12)))
            chunk += P.encode_frame(rng.randint(0, 20), rng.randint(0, 255), payload)
        for _v, msg_type, _seq, payload in P.FrameReader().feed(chunk):
            P.unpack(msg_type, payload)

    return [mqtt, json_text, http, modbus, bridge]


def parser_fuzz(n: int, seed: int = 7) -> tuple[int, list[str]]:
    """n inputs spread over the parsers; returns (inputs, unhandled exception descriptions)."""
    loop = asyncio.new_event_loop()
    checks = _parsers(Fuzzer(seed), loop)
    unhandled: list[str] = []
    for i in range(n):
        check = checks[i % len(checks)]
        try:
            check()
        except Exception as exc:       # anything but the parser's own refusal is a defect
            unhandled.append(f"{check.__name__}: {exc.__class__.__name__}: {exc}"[:200])
    loop.close()
    return n, unhandled


async def http_fuzz(n: int) -> tuple[int, list[str]]:
    """n random requests over HTTP to every API route of the web app, logged in."""
    from aiohttp.test_utils import TestClient, TestServer

    from hems.domain.clock import ManualClock
    from hems.web import create_web_app
    from tests.web.conftest import PASSWORD, T0
    from tests.web.fake_agent import FakeAgent, FakeConfig
    from tests.web.test_fuzz import QUERIES, VALID, routes

    counter = _LogCounter()
    logging.getLogger().addHandler(counter)
    # with a restart (counted, not carried out), so POST /api/v1/restart reaches its handler
    app = create_web_app(FakeAgent(T0), None, FakeConfig(), ManualClock(T0), restart=lambda: None)
    bad: list[str] = []
    fuzz = Fuzzer(31)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            csrf = (await (await client.post("/api/v1/auth/setup", json={"password": PASSWORD})).json())["csrf_token"]
            table = [r for r in routes(app) if not r[1].endswith(("/auth/logout", "/auth/password"))]
            for i in range(n):
                method, path = table[i % len(table)]
                headers = {"Content-Type": fuzz.content_type(), "X-CSRF-Token": csrf}
                query = fuzz.rng.choice(QUERIES) if method == "GET" else ""
                data = fuzz.body(VALID.get(path)) if method in ("PUT", "POST") else None
                resp = await client.request(method, path + query, data=data, headers=headers)
                await resp.read()
                if resp.status >= 500:
                    bad.append(f"{method} {path}: {resp.status}")
    finally:
        logging.getLogger().removeHandler(counter)
    bad += [f"traceback: {m}" for m in counter.traceback_messages]
    return n, bad


# --- helpers ---------------------------------------------------------------------------
class _LogCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines = self.tracebacks = 0
        self.traceback_messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += 1
        if record.exc_info:
            self.tracebacks += 1
            self.traceback_messages.append(record.getMessage()[:200])


async def _wait(predicate, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


def _stats(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def summary(outcomes: list[Outcome], n: dict[str, int], run_s: float) -> list[tuple[str, str]]:
    modbus = [o for o in outcomes if o.name.split(":")[0] in ("meter", "charger", "pv")]
    safety = [o.time_to_safe_s for o in outcomes if o.time_to_safe_s is not None]
    recovery = [o.recovery_s for o in modbus if o.recovery_s is not None]
    per_min = [o.log_lines / (o.fault_s / 60.0) for o in modbus if o.fault_s > 0]
    return [
        ("scenarios tried", f"{len(outcomes)} ({sum(o.ok for o in outcomes)} passed) (>= 20)"),
        ("time to safe state, s (min / median / max)", f"{_stats(safety)} (meter and charger faults)"),
        ("recovery time, s (min / median / max)", f"{_stats(recovery)} (Modbus faults)"),
        ("log lines per fault per minute (median / max)",
         f"{statistics.median(per_min):.1f} / {max(per_min):.1f}" if per_min else "-"),
        ("inputs fuzzed", f"{n['parsers'] + n['http'] + n['mqtt']:,} (>= 100,000): parsers {n['parsers']:,}, "
                          f"HTTP {n['http']:,}, MQTT {n['mqtt']:,}"),
        ("unhandled exceptions", f"{n['unhandled'] + sum(o.tracebacks for o in outcomes)} (0)"),
        ("invariant violations", f"{sum(len(o.violations) for o in outcomes)} (0)"),
        ("data lost (acknowledged rows / dispatch)", f"{n['lost']} (0)"),
        ("run time, s", f"{run_s:.0f}"),
    ]


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzz", type=int, default=100_000, help="inputs for the parser fuzz (HTTP and MQTT come on top)")
    ap.add_argument("--http", type=int, default=10_000, help="HTTP requests in the HTTP fuzz")
    ap.add_argument("--fault-s", type=float, default=30.0, help="clock seconds each Modbus fault lasts")
    ap.add_argument("--quick", action="store_true", help="a short run (fewer inputs, shorter faults)")
    args = ap.parse_args()
    if args.quick:
        args.fuzz, args.http, args.fault_s = 5_000, 500, 15.0
    logging.getLogger().setLevel(logging.WARNING)      # counted by the scenarios, not printed
    logging.getLogger().addHandler(logging.NullHandler())
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        outcomes = await modbus_scenarios(work / "modbus", args.fault_s)
        mqtt_outcomes, mqtt = await mqtt_scenarios(work / "mqtt")
        killed, kill_lost = kill9_scenarios(work, 3 if args.quick else 10)
        disk, disk_lost = disk_full_scenario(work)
        outcomes += mqtt_outcomes + [killed, disk]
        parsed, unhandled = await asyncio.to_thread(parser_fuzz, args.fuzz)
        http_n, http_bad = await http_fuzz(args.http)
    print(f"{'scenario':<28} {'safe s':>8} {'detect s':>8} {'recover s':>9} {'lines':>6} {'lines/min':>9} "
          f"{'viol':>5}  result")
    for o in outcomes:
        print(table_row(o))
    counts = {"parsers": parsed, "http": http_n, "mqtt": mqtt["mqtt_inputs"],
              "unhandled": len(unhandled) + len(http_bad) + mqtt["mqtt_tracebacks"],
              "lost": kill_lost + disk_lost + mqtt["accepted_lost"]}
    print(f"\n{'metric':<46} value (goal)")
    for name, value in summary(outcomes, counts, time.monotonic() - t_start):
        print(f"{name:<46} {value}")
    for line in (unhandled + http_bad)[:10]:
        print("  unhandled:", line)
    return 0 if all(o.ok for o in outcomes) and counts["unhandled"] == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
