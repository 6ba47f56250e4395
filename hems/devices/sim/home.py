"""The simulated home: house load and PV from real data, a car on a bidirectional charger, a meter.

Three devices, each served by its own Modbus TCP server on 127.0.0.1: the grid meter, the PV
inverter and the charger. Physics moves only with the injected clock: `step(now)` brings
everything to `now` (and every Modbus request does the same first, so reads are live);
`run()` steps in the background with the clock.

Balance (hems signs): grid = load + ev - pv, per phase too. The house load is split over the
phases 40/33/27 %, the PV inverter feeds all three evenly, a one-phase charger sits on L1.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hems.devices.sim.device import RegisterDevice
from hems.devices.sim.eastron import SDM630
from hems.devices.sim.evtec import EVTEC_CHARGER, EvtecBiDiPro
from hems.devices.sim.house_data import HouseProfile
from hems.devices.sim.load_peaks import LoadPeaks
from hems.devices.sim.plant import CarSpec, ChargePoint, ChargerSpec
from hems.devices.sim.quasar import WallboxQuasar
from hems.devices.sim.server import SimServer
from hems.devices.sim.sunspec_charger import SunSpecCharger
from hems.devices.sim.sunspec_meter import SunSpecMeter
from hems.devices.sim.sunspec_pv import SunSpecPvInverter
from hems.devices.sim.trips import Trip, TripSchedule
from hems.domain.clock import Clock

log = logging.getLogger(__name__)

CHARGER_KINDS = ("sunspec", "quasar", "evtec", "ocpp1.6", "ocpp2.0.1", "ocpp2.1")
METER_KINDS = ("sunspec", "sdm630")
ROLES = ("meter", "pv", "charger")


@dataclass
class HomeEnergy:
    """Energy totals since the start (Wh), integrated by the home itself."""
    load_wh: float = 0.0
    pv_wh: float = 0.0
    ev_charged_wh: float = 0.0          # AC into the car
    ev_discharged_wh: float = 0.0       # AC out of the car
    grid_import_wh: float = 0.0
    grid_export_wh: float = 0.0
    driven_wh: float = 0.0              # battery energy used on trips


@dataclass(frozen=True)
class TripRecord:
    trip: Trip
    soc_before_pct: float
    soc_after_pct: float


class SimHome:
    def __init__(self, clock: Clock, start: datetime | None = None, seed: int = 0, *,
                 base_port: int | None = None, ports: dict[str, int] | None = None,
                 host: str = "127.0.0.1", car: CarSpec | None = None,
                 charger: ChargerSpec | None = None, charger_kind: str = "sunspec",
                 meter_kind: str = "sunspec", initial_soc_pct: float = 60.0,
                 pv_rating_w: float = 5000.0, pv_scale: float = 1.0, load_scale: float = 1.0,
                 voltage_v: float | None = None, load_split: tuple[float, float, float] = (0.40, 0.33, 0.27),
                 charger_timeout_s: int = 0, tz: str = "Europe/Paris",
                 profile: HouseProfile | None = None, load_peaks: bool = False, no_soc: bool = False,
                 ocpp_url: str | None = None, ocpp_password: str | None = None) -> None:
        if charger_kind not in CHARGER_KINDS:
            raise ValueError(f"charger_kind {charger_kind!r} is not one of {CHARGER_KINDS}")
        if meter_kind not in METER_KINDS:
            raise ValueError(f"meter_kind {meter_kind!r} is not one of {METER_KINDS}")
        if abs(sum(load_split) - 1.0) > 1e-6 or len(load_split) != 3:
            raise ValueError(f"load_split {load_split} must be three shares summing to 1")
        self.clock = clock
        self.start_at = start or clock.now()
        self.host = host
        self.ports = self._choose_ports(base_port, ports)
        self.profile = profile or HouseProfile.load()
        self.schedule = TripSchedule(seed, tz)
        self.peaks = LoadPeaks(self.profile, seed) if load_peaks else None
        self.pv_scale, self.load_scale, self.load_split = pv_scale, load_scale, load_split
        self.energy = HomeEnergy()
        self.trips: list[TripRecord] = []
        spec = charger or (EVTEC_CHARGER if charger_kind == "evtec" else ChargerSpec())
        if voltage_v is None:
            voltage_v = spec.voltage_v                 # one voltage for the whole home
        spec = replace(spec, voltage_v=voltage_v, reports_soc=spec.reports_soc and not no_soc)
        self.plant = ChargePoint(spec, car or CarSpec(), soc_pct=initial_soc_pct,
                                 plugged=self._trip_at(self.start_at) is None)
        self.meter = self._make_meter(meter_kind, voltage_v)
        self.pv = SunSpecPvInverter(clock=clock, rating_w=pv_rating_w, voltage_v=voltage_v,
                                    serial="SIMHOME-PV")
        self.ocpp_url, self.ocpp_password = ocpp_url, ocpp_password
        self.charger = self._make_charger(charger_kind, charger_timeout_s)
        self.charger_kind, self.meter_kind = charger_kind, meter_kind
        self._servers: dict[str, SimServer] = {}
        self._task: asyncio.Task[None] | None = None
        self._at = self.start_at
        self._load_w = 0.0
        self._pending: list[Trip] = []
        self._planned_until = self.start_at
        for device in self.devices.values():
            device.on_request = self.step
        self._set_inputs(self.start_at)

    # --- construction -----------------------------------------------------------------
    @staticmethod
    def _choose_ports(base_port: int | None, ports: dict[str, int] | None) -> dict[str, int]:
        if ports is not None:
            missing = set(ROLES) - set(ports)
            if missing:
                raise ValueError(f"ports needs {sorted(missing)} as well")
            return {r: int(ports[r]) for r in ROLES}
        if base_port is not None:
            return {r: base_port + i for i, r in enumerate(ROLES)}
        return {r: 0 for r in ROLES}                 # free ports, chosen by the servers

    def _make_meter(self, kind: str, voltage_v: float) -> SunSpecMeter | SDM630:
        if kind == "sdm630":
            return SDM630(clock=self.clock, voltage_v=voltage_v)
        return SunSpecMeter(clock=self.clock, voltage_v=voltage_v, serial="SIMHOME-METER")

    def _make_charger(self, kind: str, timeout_s: int):
        if kind.startswith("ocpp"):           # dials hems' OCPP server instead of serving Modbus
            from hems.devices.sim.ocpp import SimStation

            if not self.ocpp_url:
                raise ValueError(f"charger_kind {kind!r} needs ocpp_url (ws://host:port/ocpp/ID)")
            return SimStation(self.ocpp_url, kind[4:], plant=self.plant, clock=self.clock,
                              password=self.ocpp_password, vendor="hems-sim", model=f"SimHome {kind}")
        if kind == "quasar":
            return WallboxQuasar(clock=self.clock, plant=self.plant, idle_timeout_s=timeout_s)
        if kind == "evtec":
            return EvtecBiDiPro(clock=self.clock, plant=self.plant, comm_timeout_s=timeout_s)
        return SunSpecCharger(clock=self.clock, plant=self.plant, revert_s=timeout_s,
                              serial="SIMHOME-EV")

    @property
    def devices(self) -> dict[str, RegisterDevice]:
        return {"meter": self.meter, "pv": self.pv, "charger": self.charger}

    # --- serving ------------------------------------------------------------------------
    async def start(self) -> None:
        """Serve the three devices over Modbus TCP (unit id 1 each)."""
        for role, device in self.devices.items():
            if role in self._servers:
                continue
            if role == "charger" and self.charger_kind.startswith("ocpp"):
                await self.charger.start()     # type: ignore[union-attr]
                continue
            server = SimServer(device, host=self.host, port=self.ports[role])
            await server.start()
            self._servers[role] = server
            self.ports[role] = server.port
        log.info("simulated home serving meter :%d, pv :%d, charger (%s) :%d", self.ports["meter"],
                 self.ports["pv"], self.charger_kind, self.ports["charger"])

    async def run(self, step_s: float = 1.0) -> None:
        """Step the physics in the background every `step_s` clock seconds until stop()."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(step_s), name="sim-home")

    async def _loop(self, step_s: float) -> None:
        while True:
            before = self.clock.now()
            self.step(before)
            await self.clock.sleep(step_s)
            if self.clock.now() <= before:
                await asyncio.sleep(0.01)            # a manual clock: do not spin

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        for server in self._servers.values():
            await server.stop()
        self._servers.clear()
        if self.charger_kind.startswith("ocpp"):
            await self.charger.stop()           # type: ignore[union-attr]

    async def __aenter__(self) -> "SimHome":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- physics ------------------------------------------------------------------------
    def step(self, now: datetime) -> None:
        """Advance the home to `now`: trips that start or end on the way, then the physics."""
        if now <= self._at:
            return
        self._plan_trips(now)
        while self._pending:
            trip = self._pending[0]
            event_at = trip.depart if self.plant.plugged else trip.arrive
            if event_at > now:
                break
            self._advance_to(event_at)
            if self.plant.plugged:
                self._depart(trip)
            else:
                self._arrive(trip)
                self._pending.pop(0)
        self._advance_to(now)

    def _plan_trips(self, now: datetime) -> None:
        if now <= self._planned_until:
            return
        known = set(self._pending)
        horizon = now + timedelta(hours=6)           # plan ahead: not every step
        for trip in self.schedule.trips_between(self._planned_until, horizon):
            if trip not in known and trip.arrive > self._at and trip.depart >= self.start_at:
                self._pending.append(trip)
            elif trip not in known and trip.depart < self.start_at < trip.arrive:
                self._pending.append(trip)            # the car was already away at the start
        self._pending.sort(key=lambda t: t.depart)
        self._planned_until = horizon

    def _trip_at(self, when: datetime) -> Trip | None:
        for trip in self.schedule.trips_between(when, when + timedelta(seconds=1)):
            if trip.depart <= when < trip.arrive:
                return trip
        return None

    def _depart(self, trip: Trip) -> None:
        self.plant.unplug()
        log.debug("car leaves at %s for %.0f km", trip.depart, trip.distance_km)

    def _arrive(self, trip: Trip) -> None:
        before = self.plant.soc_pct
        used_wh = trip.distance_km * self.plant.car.consumption_wh_per_km
        floor_pct = max(self.plant.car.soc_min_pct, 10.0)      # below that the driver charged elsewhere
        after = max(floor_pct, before - used_wh / self.plant.car.capacity_wh * 100)
        self.energy.driven_wh += (before - after) / 100 * self.plant.car.capacity_wh
        self.plant.plug(after)
        self.trips.append(TripRecord(trip, before, after))
        log.debug("car back at %s with %.1f %%", trip.arrive, after)

    def _advance_to(self, t: datetime) -> None:
        if t <= self._at:
            return
        hours = (t - self._at).total_seconds() / 3600
        charged, discharged = self.plant.charged_wh, self.plant.discharged_wh
        pv_before = self.pv.energy_wh
        self.pv.advance(t)
        self.charger.advance(t)          # type: ignore[attr-defined]
        pv_wh = self.pv.energy_wh - pv_before
        ev_wh = (self.plant.charged_wh - charged) - (self.plant.discharged_wh - discharged)
        # the charger ramps inside the interval: count the energy that really flowed
        phase_wh = tuple(self._load_w * share * hours + ev_share * ev_wh - pv_wh / 3
                         for share, ev_share in zip(self.load_split, self._ev_shares()))
        self.meter.physics.accumulate(phase_wh, t)
        e = self.energy
        e.load_wh += self._load_w * hours
        e.pv_wh += pv_wh
        e.ev_charged_wh += self.plant.charged_wh - charged
        e.ev_discharged_wh += self.plant.discharged_wh - discharged
        grid_wh = sum(phase_wh)
        if grid_wh >= 0:
            e.grid_import_wh += grid_wh
        else:
            e.grid_export_wh -= grid_wh
        self._at = t
        self._set_inputs(t)

    def _ev_shares(self) -> tuple[float, float, float]:
        return (1.0, 0.0, 0.0) if self.plant.spec.phases == 1 else (1 / 3, 1 / 3, 1 / 3)

    def _set_inputs(self, t: datetime) -> None:
        self._load_w = self.profile.load_at(t) * self.load_scale
        if self.peaks is not None:
            self._load_w += self.peaks.delta_w(t, self.load_scale)
        self.pv.available_w = self.profile.pv_at(t) * self.pv_scale
        self.meter.physics.set_power(self.phase_power_w, t)

    # --- what tests and the demo read (W, hems signs) ----------------------------------
    @property
    def load_w(self) -> float:
        return self._load_w

    @property
    def pv_w(self) -> float:
        return self.pv.output_w

    @property
    def pv_available_w(self) -> float:
        return self.pv.available_w

    @property
    def ev_w(self) -> float:
        return self.plant.actual_w

    @property
    def phase_power_w(self) -> tuple[float, float, float]:
        pv_each = self.pv_w / 3
        return tuple(self._load_w * share + ev_share * self.ev_w - pv_each  # type: ignore[return-value]
                     for share, ev_share in zip(self.load_split, self._ev_shares()))

    @property
    def phase_current_a(self) -> tuple[float, ...]:
        return tuple(abs(w) / self.meter.physics.voltage_v for w in self.phase_power_w)

    @property
    def grid_w(self) -> float:
        return self._load_w + self.ev_w - self.pv_w

    @property
    def car_soc_pct(self) -> float:
        return self.plant.soc_pct

    @property
    def car_plugged(self) -> bool:
        return self.plant.plugged

    @property
    def setpoint_w(self) -> float:
        """The setpoint the charger was given (hems sign, + = charging), after its own rules."""
        return float(self.charger.setpoint_w)          # type: ignore[attr-defined]

    @property
    def now(self) -> datetime:
        return self._at

    def next_trip(self) -> Trip | None:
        """The next departure the simulated driver will make (for a demo's preferences)."""
        upcoming = [t for t in self.schedule.trips_between(self._at, self._at + timedelta(days=8))
                    if t.depart > self._at]
        return upcoming[0] if upcoming else None

    def snapshot(self) -> dict[str, float | bool | str]:
        return {"at": self._at.isoformat(), "load_w": round(self.load_w, 1), "pv_w": round(self.pv_w, 1),
                "ev_w": round(self.ev_w, 1), "grid_w": round(self.grid_w, 1),
                "car_soc_pct": round(self.car_soc_pct, 2), "car_plugged": self.car_plugged,
                "setpoint_w": round(self.setpoint_w, 1)}
