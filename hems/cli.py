"""The `hems` command.

Each subcommand lives in the package that owns it and exposes two functions:
``add_arguments(parser)`` and ``run(args) -> int`` (the exit code). This file only
lists them, so a new subcommand is one line here.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("hems.app", "run the agent with a config file"),
    "demo": ("hems.demo", "run the simulated home and the agent on it"),
    "check-config": ("hems.config_cli", "validate a config file and print every error"),
    "plan": ("hems.planner.cli", "solve a planning problem file and print the plan as JSON"),
    "scan": ("hems.devices.scan", "scan a Modbus TCP host or serial port for devices"),
    "aggregator": ("hems.aggregator.cli", "aggregator test client: send dispatch, watch replies"),
    "bridge": ("hems.devices.bridge.cli", "talk to the microcontroller bridge over serial"),
    "ocpp": ("hems.devices.ocpp.cli", "OCPP chargers: `hems ocpp status` lists the charge points"),
    "prices": ("hems.sources.prices_cli", "fetch prices now with the config's source and print them"),
    "forecast": ("hems.sources.forecast_cli", "fetch prices and the PV forecast now and print them"),
    "backup": ("hems.backup.cli", "write a backup file (database, settings, users, keys)"),
    "restore": ("hems.backup.restore_cli", "restore a backup file (with migrations)"),
    "update": ("hems.update.cli", "check an update bundle's signature and install it"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hems", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part of hems is not built yet
            raise
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
