"""Capabilities are resolved once, at wiring, against the Protocols of hems.devices.ports."""
from __future__ import annotations

from dataclasses import replace

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
