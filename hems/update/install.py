"""Install a checked bundle with `rauc install` (into the slot not running), one at a time.

hems runs unprivileged: `rauc install` then talks to the RAUC service (root) over D-Bus, which the
image allows for the hems user only. After an install the machine must restart into the new slot;
hems asks for that by writing a file that a root-owned systemd path unit watches
(images/rootfs/etc/systemd/system/hems-reboot.path).
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from hems.update.bundle import BundleInfo

log = logging.getLogger(__name__)

REBOOT_REQUEST = "reboot-requested"


@dataclass(frozen=True)
class InstallState:
    state: str = "idle"              # idle, installing, installed, failed
    message: str = ""
    version: str | None = None
    progress_pct: int | None = None


class Installer:
    """Runs one `rauc install` at a time and keeps its outcome for the UI."""

    def __init__(self, rauc: Sequence[str] = ("rauc",)) -> None:
        self.rauc = tuple(rauc)          # the rauc command (tests add --conf=...)
        self.status = InstallState()
        self._task: asyncio.Task | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, bundle: Path, info: BundleInfo) -> None:
        if self.busy:
            raise RuntimeError("an update is already being installed")
        self.status = InstallState("installing", f"installing {info.version}", info.version, 0)
        self._task = asyncio.get_running_loop().create_task(self._run(bundle, info), name="rauc-install")

    async def wait(self) -> InstallState:
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.status

    async def _run(self, bundle: Path, info: BundleInfo) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.rauc, "install", str(bundle), stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
        except OSError as exc:
            self.status = InstallState("failed", f"cannot run rauc: {exc}", info.version)
            return
        last = ""
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            last = line
            pct = line.split("%", 1)[0].strip() if "%" in line else ""
            if pct.isdigit():
                self.status = replace(self.status, progress_pct=int(pct))
        code = await proc.wait()
        if code == 0:
            self.status = InstallState("installed", f"{info.version} installed: restart to use it", info.version, 100)
            log.info("update %s installed", info.version)
        else:
            self.status = InstallState("failed", f"rauc install failed: {last or f'exit {code}'}", info.version)
            log.error("update %s failed: %s", info.version, last)
        bundle.unlink(missing_ok=True)


def request_reboot(updates_dir: Path) -> Path:
    """Ask the system (a root path unit) to restart; returns the request file."""
    updates_dir.mkdir(parents=True, exist_ok=True)
    flag = updates_dir / REBOOT_REQUEST
    flag.write_text("reboot\n")
    return flag


async def slot_status(rauc: Sequence[str] = ("rauc",), timeout_s: float = 30.0) -> dict | None:
    """`rauc status`: the booted slot and each root slot's state and installed bundle version;
    None where RAUC is not set up (a laptop, a test machine)."""
    try:
        proc = await asyncio.create_subprocess_exec(*rauc, "status", "--detailed", "--output-format=json",
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except (OSError, asyncio.TimeoutError):
        return None
    if proc.returncode != 0:
        return None
    try:
        data = json.loads(out)
        slots = []
        for entry in data.get("slots", []):
            for name, slot in entry.items():
                bundle = ((slot.get("slot_status") or {}).get("bundle") or {})
                slots.append({"name": name, "bootname": slot.get("bootname"), "state": slot.get("state"),
                              "boot_status": slot.get("boot_status"), "version": bundle.get("version")})
        return {"booted": data.get("booted"), "primary": data.get("boot_primary"), "slots": slots}
    except (json.JSONDecodeError, AttributeError, TypeError):
        return None
