"""The last run of Debian's unattended security upgrades, from apt's stamp file and the upgrade log."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from hems.update.security import last_security_run


def files(root: Path, installed: bool = True) -> tuple[Path, Path, Path]:
    (root / "periodic").mkdir()
    if installed:
        (root / "unattended-upgrade").touch()
    return root / "periodic" / "unattended-upgrades-stamp", root / "unattended-upgrades.log", root / "unattended-upgrade"


def test_the_stamp_time_and_the_logs_last_line(tmp_path):
    stamp, log, program = files(tmp_path)
    stamp.touch()
    at = datetime(2026, 6, 13, 6, 25, 7, tzinfo=timezone.utc).timestamp()
    os.utime(stamp, (at, at))
    log.write_text("2026-06-13 06:25:01,512 INFO Starting unattended upgrades script\n"
                   "2026-06-13 06:25:07,031 INFO All upgrades installed\n\n")
    assert last_security_run(stamp, log, program) == {
        "enabled": True, "last_run": "2026-06-13T06:25:07Z", "result": "INFO All upgrades installed"}


def test_a_long_log_is_read_from_its_end(tmp_path):
    stamp, log, program = files(tmp_path)
    log.write_text("".join(f"2026-06-{d:02d} 06:25:07,031 INFO run {d}\n" for d in range(1, 29)) * 50)
    assert last_security_run(stamp, log, program)["result"] == "INFO run 28"


def test_installed_but_never_run(tmp_path):
    stamp, log, program = files(tmp_path)
    assert last_security_run(stamp, log, program) == {"enabled": True, "last_run": None, "result": None}


def test_apt_without_unattended_upgrades_is_not_enabled(tmp_path):
    stamp, log, program = files(tmp_path, installed=False)     # apt's periodic directory is on every Debian
    assert last_security_run(stamp, log, program) == {"enabled": False, "last_run": None, "result": None}
