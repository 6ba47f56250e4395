"""Common part of every role driver: a name, a profile, a link, an injected clock."""
from __future__ import annotations

import logging

from hems.devices.drivers.engine import ProfileEngine
from hems.devices.modbus import UnitLink
from hems.devices.ports import DeviceError
from hems.devices.profiles import Profile
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class ProfileDriver:
    """Connects lazily: the first read after start or after a lost connection re-resolves."""

    def __init__(self, name: str, profile: Profile, link: UnitLink,
                 clock: Clock | None = None) -> None:
        self.name = name
        self.profile = profile
        self.link = link
        self.clock = clock or SystemClock()
        self.engine = ProfileEngine(profile, link)
        self._connected = False

    async def connect(self) -> None:
        self.link.bus.attach(self)
        await self.engine.connect()
        self._connected = True
        await self._after_connect()

    async def _after_connect(self) -> None:
        """Role hook: e.g. a charger's remote-control handshake."""

    async def ensure_connected(self) -> None:
        if not self._connected:
            await self.connect()

    async def close(self) -> None:
        """Forget what was discovered; close the bus connection if no other device uses it."""
        self._connected = False
        await self.link.bus.detach(self)

    async def values(self) -> dict:
        await self.ensure_connected()
        return await self.engine.read_all()

    def describe(self) -> str:
        return f"{self.name} ({self.profile.title}, {self.link})"


def require(values: dict, key: str, where: str) -> float:
    value = values.get(key)
    if value is None:
        raise DeviceError(f"{where}: {key} not available")
    return float(value)
