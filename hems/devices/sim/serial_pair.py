"""Two connected pseudo-terminals (socat), to run Modbus RTU over a real serial line in tests.

One end is served by `SimServer(..., serial_port=pair.server_port)`, the other is opened by the
client under test, exactly as it would open /dev/ttyUSB0.
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile

log = logging.getLogger(__name__)


class SerialPairError(RuntimeError):
    """socat is missing or did not create the pseudo-terminals."""


class SerialPair:
    def __init__(self, directory: str | None = None, start_timeout_s: float = 5.0) -> None:
        self._dir = directory
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.start_timeout_s = start_timeout_s
        self.server_port = ""
        self.client_port = ""

    async def start(self) -> "SerialPair":
        socat = shutil.which("socat")
        if socat is None:
            raise SerialPairError("socat is not installed (Debian package 'socat')")
        if self._dir is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="hems-pty-")
            self._dir = self._own_dir.name
        self.server_port = os.path.join(self._dir, "server")
        self.client_port = os.path.join(self._dir, "client")
        self._proc = await asyncio.create_subprocess_exec(
            socat, f"pty,raw,echo=0,link={self.server_port}",
            f"pty,raw,echo=0,link={self.client_port}",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout_s
        while not (os.path.exists(self.server_port) and os.path.exists(self.client_port)):
            if self._proc.returncode is not None or loop.time() > deadline:
                await self.stop()
                raise SerialPairError(f"socat did not create {self.server_port} and {self.client_port}")
            await asyncio.sleep(0.02)
        log.debug("pty pair %s <-> %s", self.server_port, self.client_port)
        return self

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None
            self._dir = None

    async def __aenter__(self) -> "SerialPair":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
