"""`hems update FILE`: check an update bundle's signature and install it (as root, on the image)."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from hems.update.bundle import SYSTEM_CONF, BundleError, UpdateSystem, verify_bundle


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the update bundle (.raucb)")
    parser.add_argument("--check", action="store_true", help="only check the bundle, do not install it")
    parser.add_argument("--system-conf", type=Path, default=SYSTEM_CONF,
                        help=f"RAUC system config with the keyring (default: {SYSTEM_CONF})")
    parser.add_argument("--reboot", action="store_true", help="restart into the new version once installed")


def run(args: argparse.Namespace) -> int:
    try:
        info = verify_bundle(args.file, UpdateSystem.from_conf(args.system_conf))
    except BundleError as exc:
        print(f"update refused: {exc}", file=sys.stderr)
        return 1
    print(f"bundle OK: {info.compatible} {info.version}, signed by {info.signer or '?'}")
    if args.check:
        return 0
    done = subprocess.run(["rauc", "install", str(args.file)])
    if done.returncode != 0:
        print("update failed: rauc install did not finish (the running version is unchanged)", file=sys.stderr)
        return 1
    print(f"{info.version} installed in the other slot" + ("; restarting" if args.reboot else
                                                           "; restart to use it (reboot)"))
    if args.reboot:
        subprocess.run(["systemctl", "reboot"])
    return 0
