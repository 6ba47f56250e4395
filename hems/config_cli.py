"""`hems check-config [FILE]`: validate a config file, print every error, exit 1 if any."""
from __future__ import annotations

import argparse
import sys

from hems.config import ConfigError, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default="config.toml", metavar="FILE",
                        help="config file to check (default: config.toml)")


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        print(f"{args.file}: {len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}", file=sys.stderr)
        for message in exc.errors:
            print(f"  {message}", file=sys.stderr)
        return 1
    print(f"OK: {cfg.summary()}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="hems check-config", description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
