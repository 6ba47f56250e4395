"""`hems aggregator`: the aggregator's side on the command line, for integrators.

  hems aggregator keygen --out site.key                   a per-site HMAC key (hex)
  hems aggregator keygen --ed25519 --out agg              agg.pem (private) + agg.pub (public)
  hems aggregator event --target-w -5000 --duration 900   send an event, print the reply
  hems aggregator regulation --band-w 3000 --duration 900 --follow 60
  hems aggregator cancel ID | default --import-limit-w 3000 | prices --interval 900 0.31 0.28 ...
  hems aggregator watch                                   print status, telemetry, plan, settlement

Broker and keys come from the options, or from a hems config file (--config) for a quick test
against one's own home.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import secrets
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hems.aggregator.auth import AuthError, Ed25519PrivateKey, HmacKey


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="agg_command", metavar="ACTION", required=True)
    keygen = sub.add_parser("keygen", help="make a per-site HMAC key or an Ed25519 key pair")
    keygen.add_argument("--out", required=True, help="HMAC: key file; Ed25519: path stem (.pem, .pub)")
    keygen.add_argument("--ed25519", action="store_true")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="take broker, site and key from this hems config file")
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        p.add_argument("--ca", help="CA file (enables TLS)")
        p.add_argument("--cert", help="the aggregator's client certificate")
        p.add_argument("--key", help="its private key")
        p.add_argument("--username")
        p.add_argument("--password-file")
        p.add_argument("--site", help="site_id")
        p.add_argument("--prefix", default=None, help="topic prefix (default hems/v1)")
        p.add_argument("--hmac-key", help="per-site HMAC key file")
        p.add_argument("--ed25519-key", help="the aggregator's Ed25519 private key (PEM)")
        p.add_argument("--client-id", default="hems-aggregator-cli")

    def window(p: argparse.ArgumentParser) -> None:
        p.add_argument("--start", default="now", help="'now', '+SECONDS' or an ISO time (UTC)")
        p.add_argument("--duration", type=int, default=900, help="seconds")
        p.add_argument("--priority", type=int, default=0)
        p.add_argument("--id", help="event id (default: generated)")

    ev = sub.add_parser("event", help="send an event: a target EV power or site limits")
    common(ev), window(ev)
    ev.add_argument("--target-w", type=float)
    ev.add_argument("--import-limit-w", type=float)
    ev.add_argument("--export-limit-w", type=float)
    ev.add_argument("--randomize-start", type=int, default=0, help="seconds")
    reg = sub.add_parser("regulation", help="commit a regulation band, optionally follow a signal")
    common(reg), window(reg)
    reg.add_argument("--band-w", type=float, required=True)
    reg.add_argument("--center-w", type=float)
    reg.add_argument("--follow", type=float, default=0, help="send a test signal every 2 s for N s")
    cancel = sub.add_parser("cancel", help="cancel an accepted event or regulation")
    common(cancel)
    cancel.add_argument("target_id")
    default = sub.add_parser("default", help="set (or clear) the default control")
    common(default)
    default.add_argument("--import-limit-w", type=float)
    default.add_argument("--export-limit-w", type=float)
    prices = sub.add_parser("prices", help="send a price curve (per kWh) from --start")
    common(prices)
    prices.add_argument("--start", default="now")
    prices.add_argument("--interval", type=int, default=900)
    prices.add_argument("price_per_kwh", type=float, nargs="+")
    watch = sub.add_parser("watch", help="print what the home publishes")
    common(watch)
    watch.add_argument("--seconds", type=float, default=0, help="stop after N s (0 = until Ctrl-C)")


def run(args: argparse.Namespace) -> int:
    if args.agg_command == "keygen":
        return _keygen(args)
    try:
        return asyncio.run(_run(args))
    except (AuthError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (TimeoutError, asyncio.TimeoutError):
        print("error: no reply from the home in time (is it online? same site and key?)", file=sys.stderr)
        return 1


def _keygen(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.ed25519:
        from cryptography.hazmat.primitives import serialization

        key = Ed25519PrivateKey()
        pem = key._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        out.with_suffix(".pem").write_bytes(pem)
        out.with_suffix(".pem").chmod(0o600)
        out.with_suffix(".pub").write_text(key.public_raw().hex() + "\n")
        print(f"private key {out.with_suffix('.pem')} (keep at the aggregator), "
              f"public key {out.with_suffix('.pub')} (aggregator.auth_key_file of the home)")
    else:
        out.write_text(secrets.token_hex(32) + "\n")
        out.chmod(0o600)
        print(f"HMAC key {out} (the same file at the home and the aggregator)")
    return 0


def parse_start(text: str) -> datetime:
    now = datetime.now(timezone.utc)
    if text == "now":
        return now
    if text.startswith("+"):
        return now + timedelta(seconds=float(text[1:]))
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def client_from_args(args: argparse.Namespace):
    from hems.aggregator.aggregator_client import AggregatorClient
    from hems.aggregator.mqtt import BrokerSettings

    agg: Any = None
    if args.config:
        from hems.config import load_config

        agg = load_config(args.config).aggregator
        if agg is None:
            raise ValueError(f"{args.config} has no [aggregator] section")
    pick = lambda value, attr, default=None: value if value is not None else (  # noqa: E731
        getattr(agg, attr) if agg is not None and getattr(agg, attr) is not None else default)
    ca = pick(args.ca, "ca_file")
    password = Path(args.password_file).read_text().strip() if args.password_file else None
    broker = BrokerSettings(host=pick(args.host, "host", "127.0.0.1"), port=int(pick(args.port, "port", 1883)),
                            client_id=args.client_id, tls=bool(ca), ca_file=str(ca) if ca else None,
                            cert_file=args.cert, key_file=args.key, username=args.username, password=password)
    site = pick(args.site, "site_id")
    if not site:
        raise ValueError("--site is needed (or --config with aggregator.site_id)")
    if args.ed25519_key:
        signer, verifier = Ed25519PrivateKey.from_file(args.ed25519_key), None
    else:
        key_file = pick(args.hmac_key, "auth_key_file")
        if not key_file:
            raise ValueError("--hmac-key or --ed25519-key is needed")
        signer = verifier = HmacKey.from_file(key_file)
    return AggregatorClient(broker, site, signer, topic_prefix=pick(args.prefix, "topic_prefix", "hems/v1"),
                            reply_verifier=verifier)


def _print(label: str, doc: Any) -> None:
    print(f"{label}: {json.dumps(doc)}", flush=True)


async def _run(args: argparse.Namespace) -> int:
    client = client_from_args(args)
    await client.start()
    try:
        return await _action(client, args)
    finally:
        await client.stop()


async def _action(client, args: argparse.Namespace) -> int:
    cmd = args.agg_command
    if cmd == "watch":
        return await _watch(client, args.seconds)
    if cmd == "event":
        fields = {k: v for k, v in dict(target_w=args.target_w, import_limit_w=args.import_limit_w,
                                         export_limit_w=args.export_limit_w).items() if v is not None}
        if args.randomize_start:
            fields["randomize_start_s"] = args.randomize_start
        reply = await client.send("event", msg_id=args.id, start=parse_start(args.start),
                                  duration_s=args.duration, priority=args.priority, **fields)
    elif cmd == "regulation":
        fields = {"center_w": args.center_w} if args.center_w is not None else {}
        reply = await client.send("regulation", msg_id=args.id, start=parse_start(args.start),
                                  duration_s=args.duration, band_w=args.band_w, priority=args.priority, **fields)
        _print("reply", reply)
        if args.follow and reply["status"] in ("accepted", "modified"):
            await follow_signal(client, reply["in_reply_to"], args.follow)
        return 0 if reply["status"] in ("accepted", "modified") else 2
    elif cmd == "cancel":
        reply = await client.send("cancel", target_id=args.target_id)
    elif cmd == "default":
        fields = {k: v for k, v in dict(import_limit_w=args.import_limit_w,
                                         export_limit_w=args.export_limit_w).items() if v is not None}
        reply = await client.send("default", **fields)
    else:
        reply = await client.send("prices", start=parse_start(args.start), interval_s=args.interval,
                                  price_per_kwh=args.price_per_kwh)
    _print("reply", reply)
    return 0 if reply["status"] in ("accepted", "modified", "done") else 2


async def follow_signal(client, regulation_id: str, seconds: float, period_s: float = 2.0) -> None:
    """A smooth random test signal in [-1, 1] every period_s, with the EV power written."""
    rng = random.Random(1)
    phase = 0.0
    for k in range(int(seconds / period_s)):
        phase += period_s
        signal = max(-1.0, min(1.0, 0.8 * math.sin(phase / 40.0) + 0.2 * rng.uniform(-1, 1)))
        r = await client.send("regulation_signal", regulation_id=regulation_id, signal=round(signal, 3))
        print(f"signal {signal:+.3f} -> {r['status']} {r.get('delivered', {}).get('ev_power_w')} W", flush=True)
        await asyncio.sleep(period_s)


async def _watch(client, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds if seconds else math.inf
    seen_status, seen_plan = None, None
    while loop.time() < end:
        if client.status != seen_status:
            seen_status = client.status
            _print("status", seen_status)
        if client.plan is not None and client.plan is not seen_plan:
            seen_plan = client.plan
            print(f"plan: from {seen_plan['start']}, {len(seen_plan['ev_w'])} x {seen_plan['interval_s']} s", flush=True)
        while not client.telemetry.empty():
            _print("telemetry", client.telemetry.get_nowait())
        while not client.settlements.empty():
            _print("settlement", client.settlements.get_nowait())
        await asyncio.sleep(0.2)
    return 0
