"""A hems OCPP server with one charger, and a simulated station dialing it over loopback."""
from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from hems.devices.ocpp import Electrical, OcppCharger, OcppServer, OcppSettings
from hems.devices.sim.ocpp import SimStation
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec

VERSIONS = ("1.6", "2.0.1", "2.1")
VOLTAGE_V = 230.0
FALLBACK_A = 6.0


@dataclass
class Rig:
    server: OcppServer
    charger: OcppCharger
    station: SimStation | None = None

    def url(self, cp_id: str = "CP-1") -> str:
        return f"ws://127.0.0.1:{self.server.port}/ocpp/{cp_id}"

    async def station_for(self, version: str, *, soc_pct: float = 50.0, start: bool = True,
                          **kw) -> SimStation:
        plant = ChargePoint(ChargerSpec(phases=3, voltage_v=VOLTAGE_V, max_current_a=16, ramp_s=0.0),
                            CarSpec(), soc_pct=soc_pct)
        self.station = SimStation(self.url(), version, plant=plant, **kw)
        if start:
            await self.start_station()
        return self.station

    async def start_station(self) -> None:
        st = self.station
        await st.start()
        await st.wait_for(lambda: st.transaction_id is not None and self.charger.point.measured_at is not None)
        # the fallback profile is installed right after boot
        await st.wait_for(lambda: any(p.stack_level == 0 for p in st.schedule.profiles.values()))

    async def until(self, predicate, timeout_s: float = 10.0) -> None:
        await self.station.wait_for(predicate, timeout_s)


def make_server(**settings) -> OcppServer:
    base = OcppSettings(bind="127.0.0.1", port=0, meter_interval_s=1.0, response_timeout_s=5.0,
                        fallback_current_a=FALLBACK_A)
    return OcppServer(replace(base, **settings))


def make_charger(server: OcppServer, validity_s: float = 30.0, password: str | None = None,
                 cp_id: str = "CP-1") -> OcppCharger:
    charger = OcppCharger("charger", cp_id, server, electrical=Electrical(3, VOLTAGE_V),
                          validity_s=validity_s, fallback_current_a=FALLBACK_A, password=password)
    server.add(charger)
    return charger


@pytest.fixture
async def rig():
    server = make_server()
    charger = make_charger(server)
    await charger.connect()
    r = Rig(server, charger)
    yield r
    if r.station is not None:
        await r.station.stop()
    await charger.close()
    await server.stop()
