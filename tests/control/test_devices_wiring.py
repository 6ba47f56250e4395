"""Capabilities are resolved once, at wiring, against the Protocols of hems.devices.ports; the
charger output bounds its writes and logs an outage once."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest

from hems.control.devices import ChargerOutput
from hems.devices.factory import make_driver
from hems.devices.modbus import BusRegistry, TcpEndpoint
from hems.devices.profiles import load_profile


def test_the_charger_output_knows_its_heartbeat_from_the_driver_class():
    link = BusRegistry().get(TcpEndpoint("127.0.0.1", 1), timeout_s=1.0).unit(1)
    profile = load_profile("sunspec", role="charger")
    with_timeout = make_driver("c", profile, link, heartbeat_timeout_s=30.0)
    without = make_driver("c", replace(profile, heartbeat=None), link)
    assert ChargerOutput("c", with_timeout).has_heartbeat
    assert not ChargerOutput("c", without).has_heartbeat


class _Charger:
    """A BidiCharger whose writes hang (no answer) until `answers` is set."""

    def __init__(self) -> None:
        self.answers = False
        self.written: list[float] = []

    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    async def read(self): ...

    async def write_power(self, ev_power_w: float) -> None:
        if not self.answers:
            await asyncio.sleep(3600)
        self.written.append(ev_power_w)


async def test_a_charger_that_does_not_answer_holds_a_write_only_for_its_bound_and_is_logged_once(caplog):
    charger = _Charger()
    out = ChargerOutput("c", charger, write_timeout_s=0.05)
    with caplog.at_level(logging.INFO, logger="hems.control.devices"):
        for _ in range(3):
            with pytest.raises(TimeoutError, match="no answer within 0.05 s"):
                await asyncio.wait_for(out.write(3000.0, refresh=False), 1.0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(out.idle(), 1.0)
        assert out.error is not None
        charger.answers = True
        await out.write(3000.0, refresh=False)
        await out.write(3100.0, refresh=False)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("failed" in m for m in lines) == 1, lines
    assert sum("works again" in m for m in lines) == 1, lines
    assert out.error is None and charger.written == [3000.0, 3100.0]
