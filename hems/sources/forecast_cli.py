"""`hems forecast --config FILE [--json]` (see hems.sources.cli)."""
from __future__ import annotations

import argparse

from hems.sources.cli import add_common, run_forecast


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    return run_forecast(args)
