"""`hems plan PROBLEM.json`: solve a problem file and print the plan as JSON.

Exit codes: 0 solved (even with a target shortfall, which the plan reports), 1 bad input.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from hems.planner.dp import solve
from hems.planner.envelope import flexibility
from hems.planner.problem import Problem, ProblemError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problem", help="problem file (JSON, format in hems/planner/README.md); - for stdin")
    parser.add_argument("--envelope", action="store_true", help="also print the flexibility envelope")
    parser.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")


def _read(path: str) -> object:
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as exc:
        raise ProblemError(path, f"cannot read the file: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError(path, f"is not valid JSON: {exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        problem = Problem.from_json(_read(args.problem))
    except ProblemError as exc:
        log.error("bad problem file %s: %s", args.problem, exc)
        return 1
    result = solve(problem)
    out = result.to_json()
    if args.envelope:
        out["envelope"] = flexibility(problem, result).to_json()
    for warning in result.warnings:
        log.warning("%s", warning)
    try:
        json.dump(out, sys.stdout, indent=args.indent)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:            # the reader (e.g. `| head`) went away: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
