"""A minimal agent process for the kill test: drive one charger and keep its heartbeat fresh.

python -m tests.devices.heartbeat_agent PROFILE PORT POWER_W TIMEOUT_S
Prints "ready" once the setpoint is written, then refreshes the heartbeat every
TIMEOUT_S / 4 seconds until killed.
"""
from __future__ import annotations

import asyncio
import sys

from hems.devices.factory import make_driver
from hems.devices.modbus import ModbusBus, TcpEndpoint
from hems.devices.profiles import load_profile


async def main(profile: str, port: int, power_w: float, timeout_s: float) -> None:
    link = ModbusBus(TcpEndpoint("127.0.0.1", port), timeout_s=2.0).unit(1)
    charger = make_driver("charger", load_profile(profile, role="charger"), link,
                          heartbeat_timeout_s=timeout_s)
    await charger.write_power(power_w)
    await charger.refresh_heartbeat()
    print("ready", flush=True)
    while True:
        await asyncio.sleep(timeout_s / 4)
        await charger.refresh_heartbeat()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])))
