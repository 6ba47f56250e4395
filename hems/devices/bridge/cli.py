"""`hems bridge`: talk to the microcontroller bridge over serial (installer and bench tool).

    hems bridge --port /dev/ttyACM0 status
    hems bridge --port /dev/ttyACM0 watch --seconds 30
    hems bridge --port /dev/ttyACM0 charge --current 10 --seconds 60
    hems bridge --port /dev/ttyACM0 clear-faults

The bridge's watchdog stops charging when the heartbeats stop: `charge` keeps sending them
for --seconds, then the bridge falls back by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
from dataclasses import asdict

from hems.devices.bridge.link import BridgeLink
from hems.devices.ports import DeviceError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyACM0")
    parser.add_argument("--baudrate", type=int, default=115200)
    parser.add_argument("--timeout", type=float, default=1.0, help="answer timeout, s")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("status", help="print the bridge's hello and one status as JSON")
    w = sub.add_parser("watch", help="print a status line per report, sending heartbeats")
    w.add_argument("--seconds", type=float, default=10.0)
    c = sub.add_parser("charge", help="offer a pilot current while sending heartbeats")
    c.add_argument("--current", type=float, required=True, help="A: 0 or 6..80")
    c.add_argument("--seconds", type=float, default=10.0)
    sub.add_parser("clear-faults", help="clear latched faults whose cause is gone")


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except DeviceError as exc:
        log.error("%s", exc)
        return 1


async def _main(args: argparse.Namespace) -> int:
    link = BridgeLink(args.port, baudrate=args.baudrate, timeout_s=args.timeout)
    await link.connect()
    try:
        if args.action == "status":
            status = await link.fresh_status(0)
            out = {"hello": link.hello, "status": asdict(status)}
            print(json.dumps(out, default=str, indent=2))
        elif args.action == "watch":
            await _hold(link, args.seconds, print_status=True)
        elif args.action == "charge":
            await link.heartbeat()
            da = round(args.current * 10)
            await link.set_charge_enabled(da > 0)
            await link.set_pilot_current_da(da)
            await _hold(link, args.seconds, print_status=True)
            await link.set_pilot_current_da(0)
            await link.set_charge_enabled(False)
        elif args.action == "clear-faults":
            await link.heartbeat()
            await link.clear_faults()
            print("faults cleared")
    finally:
        await link.close()
    return 0


async def _hold(link: BridgeLink, seconds: float, print_status: bool) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    last = None
    while loop.time() < end:
        await link.heartbeat()
        status = link.status
        if print_status and status is not None and status is not last:
            last = status
            freq = f"{status.frequency_hz:.3f} Hz" if status.frequency_hz else "no mains"
            print(f"{status.at:%H:%M:%S} pilot {status.pilot_state} {status.pilot_out_a:.1f} A "
                  f"relay {'closed' if status.relay_closed else 'open'} {freq} "
                  f"pulses {status.pulses} faults {','.join(status.faults) or '-'}", flush=True)
        await asyncio.sleep(0.5)
