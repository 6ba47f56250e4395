"""The system under hems, as the Devices page shows it: hems's version, the SD card image's, and
the last run of Debian's unattended security upgrades.

The files are read from `SystemFiles` (the real paths unless `attach_system_files` was given
others, as tests do).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from hems import __version__
from hems.update import security
from hems.update.version import IMAGE_VERSION, image_version


@dataclass(frozen=True)
class SystemFiles:
    image_version: Path = IMAGE_VERSION           # /etc/hems-image-version (only on the image)
    security_stamp: Path = security.STAMP         # touched by apt after each unattended-upgrade run
    security_log: Path = security.LOG             # unattended-upgrade's log
    security_program: Path = security.PROGRAM     # unattended-upgrades is installed


SYSTEM_FILES: web.AppKey[dict] = web.AppKey("hems_system_files", dict)   # {"files": SystemFiles}


def attach_system_files(app: web.Application, files: SystemFiles) -> None:
    """Read the versions and the security upgrades' last run from these files (callable after the app started)."""
    app[SYSTEM_FILES]["files"] = files


def system_files(app: web.Application) -> SystemFiles:
    files: SystemFiles = app[SYSTEM_FILES].get("files", SystemFiles())
    return files


def security_updates(files: SystemFiles) -> dict[str, Any]:
    """{"enabled", "last_run" (ISO UTC or None), "result" (the log's last line or None)}."""
    return security.last_security_run(files.security_stamp, files.security_log, files.security_program)


def system_status(files: SystemFiles) -> dict[str, Any]:
    """{"hems_version", "image_version" (None off the image), "security_updates"}; reads files (blocking)."""
    return {"hems_version": __version__, "image_version": image_version(files.image_version),
            "security_updates": security_updates(files)}
