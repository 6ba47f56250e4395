"""A simulated OCPP charging station with a car (`plant.ChargePoint`), in the charge point role.

It dials ws://HOST:PORT/ocpp/{id} (reconnecting with backoff, as real stations do), boots,
sends heartbeats, status changes and meter values, starts a transaction when the central system
asks (or by itself with `autostart`), and drives the car with the charging profile that applies
now (`schedule.Schedule`). Without a valid profile it charges at `default_current_a`.
The protocol messages live in `cp16.py` and `cp2x.py`; this part is the same for every version.
Faults for tests: `reject_profiles`, `clock_offset_s` (its clock is that far off), `silent`.
"""
from __future__ import annotations

import asyncio
import base64
import logging
from datetime import datetime, timedelta
from typing import Callable

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from hems.devices.sim.ocpp.schedule import Schedule
from hems.devices.sim.plant import ChargePoint
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger(__name__)

class QuietLog:
    """The library logs every frame at info level; a simulated station logs them at debug."""

    def debug(self, msg: str, *args, **kw) -> None:
        log.debug(msg, *args)

    info = debug

    def warning(self, msg: str, *args, **kw) -> None:
        log.warning(msg, *args)

    error = exception = warning


VERSIONS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}


class SimStation:
    def __init__(self, url: str, version: str, *, plant: ChargePoint | None = None,
                 clock: Clock | None = None, password: str | None = None,
                 default_current_a: float | None = None, autostart: bool = False,
                 v2x: bool = True, iso15118: bool = True, departure: datetime | None = None,
                 ssl=None, vendor: str = "hems-sim", model: str | None = None) -> None:
        if version not in VERSIONS:
            raise ValueError(f"OCPP version {version!r} is not one of {sorted(VERSIONS)}")
        self.url, self.version, self.password, self.ssl = url, version, password, ssl
        self.cp_id = url.rstrip("/").rsplit("/", 1)[-1]
        self.plant = plant or ChargePoint()
        self.clock = clock or SystemClock()
        spec = self.plant.spec
        default_a = spec.max_current_a if default_current_a is None else default_current_a
        self.schedule = Schedule(spec.phases, spec.voltage_v, default_a * spec.phases * spec.voltage_v)
        self.autostart, self.iso15118, self.departure = autostart, iso15118, departure
        self.v2x = v2x and version == "2.1"
        self.vendor, self.model = vendor, model or f"sim-{version}"
        self.reject_profiles = False
        self.clock_offset_s = 0.0
        self.heartbeat_s = 60.0
        self.meter_interval_s = 10.0
        self.cp = None                       # the protocol object while connected
        self.connected = asyncio.Event()
        self.boots = 0
        self.received: list[tuple[str, dict]] = []   # requests from the central system
        self.transaction_id: str | None = None
        self.on_request: Callable[[datetime], None] | None = None   # SimHome steps itself
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Condition()
        self._was_plugged = self.plant.plugged
        self._watch: asyncio.Task | None = None
        self.refused_status: int | None = None     # HTTP status of the last refused handshake

    # --- what tests and the home read ------------------------------------------------
    def now(self) -> datetime:
        """The station's own clock (hems' clock + its offset)."""
        return self.clock.now() + timedelta(seconds=self.clock_offset_s)

    @property
    def limit_w(self) -> float:
        """What the applicable profile (or the default) lets flow now (hems sign)."""
        return self.schedule.power_w(self.now())

    @property
    def setpoint_w(self) -> float:
        """What the car is told now: the limit during a transaction, else nothing."""
        return self.limit_w if self.transaction_id is not None else 0.0

    def advance(self, now: datetime) -> None:
        self.plant.command(self.setpoint_w)
        self.plant.advance(now)

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Until predicate() holds (checked whenever the station's state changes)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout_s)

    async def changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- life cycle -------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"sim-ocpp-{self.cp_id}")

    async def stop(self) -> None:
        """Close the websocket (1000, as a station that is switched off) and stop."""
        task = self._task
        self._task = None
        if self.cp is not None:               # the run loop waits its backoff before a retry
            try:
                await asyncio.wait_for(self.cp._connection.close(1000, "station stopped"), 2.0)
            except (asyncio.TimeoutError, ConnectionClosed, OSError):
                pass
        for task in (task, self._watch):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._task = self._watch = None

    async def drop(self) -> None:
        """Close the websocket (the station reconnects by itself)."""
        if self.cp is not None:
            await self.cp._connection.close()

    async def _run(self) -> None:
        backoff_s = 0.2
        while True:
            headers = {}
            if self.password is not None:
                token = base64.b64encode(f"{self.cp_id}:{self.password}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            try:
                async with connect(self.url, subprotocols=[VERSIONS[self.version]],
                                   additional_headers=headers, ssl=self.ssl, open_timeout=5) as ws:
                    backoff_s = 0.2
                    await self._session(ws)
            except InvalidStatus as exc:
                log.debug("%s: refused (%s)", self.cp_id, exc.response.status_code)
                self.refused_status = exc.response.status_code
                await self.changed()
            except (OSError, InvalidHandshake, ConnectionClosed, asyncio.TimeoutError) as exc:
                log.debug("%s: connection lost: %s", self.cp_id, exc)
            self.schedule.offline_since = self.schedule.offline_since or self.now()
            self.cp = None
            self.connected.clear()
            self.profile_installed()          # a 2.1 profile may lapse while offline
            await self.changed()
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, 5.0)

    async def _session(self, ws) -> None:
        from hems.devices.sim.ocpp.cp16 import Station16
        from hems.devices.sim.ocpp.cp2x import Station2x

        cp = (Station16 if self.version == "1.6" else Station2x.for_version(self.version))(self, ws)
        self.cp = cp
        listener = asyncio.create_task(cp.start())
        try:
            await cp.boot()
            self.schedule.offline_since = None
            self.boots += 1
            self.connected.set()
            await self.changed()
            await asyncio.gather(listener, self._heartbeats(cp), self._meter_loop(cp))
        finally:
            listener.cancel()

    async def _heartbeats(self, cp) -> None:
        while True:
            await self.clock.sleep(self.heartbeat_s)
            await cp.heartbeat()

    async def _meter_loop(self, cp) -> None:
        await cp.status(self.plant.plugged)
        if self.plant.plugged:
            await cp.car_arrived()
        while True:
            self._step()
            if self.plant.plugged != self._was_plugged:
                self._was_plugged = self.plant.plugged
                await cp.status(self.plant.plugged)
                await (cp.car_arrived() if self.plant.plugged else cp.car_left())
            await cp.meter_values()
            await self.changed()
            await self.clock.sleep(self.meter_interval_s)

    def _step(self) -> None:
        if self.on_request is not None:
            self.on_request(self.clock.now())
        else:
            self.advance(self.clock.now())

    # --- profiles (called by the protocol objects) ------------------------------------
    def profile_installed(self) -> None:
        """Re-evaluate now and when the next profile starts or ends."""
        self._step()
        if self._watch is not None:
            self._watch.cancel()
        self._watch = asyncio.ensure_future(self._watch_expiry())
        asyncio.ensure_future(self.changed())

    async def _watch_expiry(self) -> None:
        while True:
            nxt = self.schedule.next_change(self.now())
            if nxt is None:
                return
            await self.clock.sleep(max(0.0, (nxt - self.now()).total_seconds()) + 0.01)
            self._step()
            await self.changed()
