"""Serve a simulated home on 127.0.0.1 until Ctrl-C: `python -m hems.devices.sim --base-port 15020`.

For trying drivers and `hems scan` by hand. Prints the ports, then one status line a minute of
simulated time.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from datetime import datetime, timezone

from hems.devices.sim.home import CHARGER_KINDS, METER_KINDS, SimHome
from hems.domain.clock import ScaledClock


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m hems.devices.sim", description=__doc__.splitlines()[0])
    p.add_argument("--base-port", type=int, default=0, help="meter, pv, charger on this and the next two ports "
                                                             "(default: free ports)")
    p.add_argument("--start", default="2024-06-03T00:00:00+00:00", help="simulated start (ISO, with offset)")
    p.add_argument("--speedup", type=float, default=60.0, help="simulated seconds per real second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--charger", choices=CHARGER_KINDS, default="sunspec")
    p.add_argument("--meter", choices=METER_KINDS, default="sunspec")
    p.add_argument("--no-soc", action="store_true", help="the charger never reports the car's state of charge "
                                                         "(as an AC charger)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many real seconds")
    args = p.parse_args(argv)
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        p.error(f"--start {args.start!r} is not an ISO date-time")
    if start.tzinfo is None:
        p.error("--start needs a UTC offset, e.g. 2024-06-03T00:00:00+00:00")
    args.start = start.astimezone(timezone.utc)
    return args


async def serve(args: argparse.Namespace) -> None:
    clock = ScaledClock(args.start, args.speedup)
    home = SimHome(clock, args.start, seed=args.seed, base_port=args.base_port or None,
                   charger_kind=args.charger, meter_kind=args.meter, no_soc=args.no_soc)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with home:
        await home.run()
        print(" ".join(f"{role}=127.0.0.1:{port}" for role, port in home.ports.items()), flush=True)
        period_s = min(60.0 / args.speedup, 5.0)          # a simulated minute, at most 5 s
        elapsed_s = 0.0
        while not stop.is_set() and (args.duration is None or elapsed_s < args.duration):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), period_s)
            elapsed_s += period_s
            print(home.snapshot(), flush=True)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
