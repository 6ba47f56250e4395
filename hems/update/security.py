"""The last run of Debian's unattended security upgrades, for the Devices page.

apt's daily job touches /var/lib/apt/periodic/unattended-upgrades-stamp after each run of
unattended-upgrade; its log says what happened. Both are world-readable. They are on when
unattended-upgrades is installed: apt's periodic directory alone is on every Debian system.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STAMP = Path("/var/lib/apt/periodic/unattended-upgrades-stamp")
LOG = Path("/var/log/unattended-upgrades/unattended-upgrades.log")
PROGRAM = Path("/usr/bin/unattended-upgrade")


def last_security_run(stamp: Path = STAMP, log: Path = LOG, program: Path = PROGRAM) -> dict[str, Any]:
    """{"enabled", "last_run" (ISO UTC or None), "result" (the log's last line or None)}."""
    enabled = program.exists() and stamp.parent.exists()
    try:
        last_run = datetime.fromtimestamp(stamp.stat().st_mtime, timezone.utc).isoformat().replace("+00:00", "Z")
    except OSError:
        last_run = None
    result = None
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - 4096))
            lines = [line for line in f.read().decode(errors="replace").splitlines() if line.strip()]
        result = lines[-1].split(" ", 2)[-1] if lines else None
    except OSError:
        pass
    return {"enabled": enabled, "last_run": last_run, "result": result}
