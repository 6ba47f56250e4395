"""`hems prices --config FILE [--day YYYY-MM-DD] [--json]` (see hems.sources.cli)."""
from __future__ import annotations

import argparse

from hems.sources.cli import add_common, run_prices


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--day", help="one local calendar day of the site's time zone (default: today and tomorrow)")


def run(args: argparse.Namespace) -> int:
    return run_prices(args)
