"""The base of every simulated device: register spaces, request handling, a write log.

A device owns its holding (and, if it has them, input) registers. On each read the server asks
the device to `refresh(now)` first, so a client always sees the physical values of that moment.
A write is checked (address writable, value acceptable to the device) before it lands;
refused writes get the Modbus exception a real device would send.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pymodbus.constants import ExcCodes

from hems.domain.clock import Clock, SystemClock
from hems.devices.sim.registers import RegisterMap

log = logging.getLogger(__name__)

READ_HOLDING, READ_INPUT = 3, 4
WRITE_SINGLE, WRITE_MULTIPLE, READ_WRITE_MULTIPLE = 6, 16, 23


@dataclass(frozen=True)
class WriteRecord:
    at: datetime
    address: int
    values: tuple[int, ...]


class RegisterDevice:
    """A device on a Modbus unit id. Subclasses fill the maps and override the hooks."""

    def __init__(self, unit_id: int = 1, clock: Clock | None = None, has_input: bool = False) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit id {unit_id} is not in 1..247")
        self.unit_id = unit_id
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.holding = RegisterMap()
        self.input: RegisterMap | None = RegisterMap() if has_input else None
        self.writes: deque[WriteRecord] = deque(maxlen=1000)
        self.requests = 0                      # requests served, for tests and benchmarks
        self.last_request_at = self.clock.now()  # for devices with an idle/communication timeout
        # Called with the clock's time before each request is served: lets a simulated home
        # bring its physics up to the moment of the request.
        self.on_request: Callable[[datetime], None] | None = None
        # Faults a test can switch on: no answer at all (as a dead device), or an exception reply
        # to every request (as a device that is busy or broken).
        self.silent = False
        self.answer_exception: ExcCodes | None = None

    # --- hooks -------------------------------------------------------------------------
    def refresh(self, now: datetime) -> None:
        """Render the physical state of `now` into the registers."""

    def check_write(self, address: int, values: list[int]) -> ExcCodes | None:
        """Refuse a write the device would refuse (ILLEGAL_VALUE), before it lands."""
        return None

    def after_write(self, address: int, count: int, now: datetime) -> None:
        """React to registers a client has just written."""

    # --- request handling (called by the server) ---------------------------------------
    def handle_read(self, func_code: int, address: int, count: int) -> list[int] | ExcCodes:
        self.last_request_at = self.clock.now()
        if self.answer_exception is not None:
            return self.answer_exception
        space = self._space(func_code)
        if space is None:
            return ExcCodes.ILLEGAL_FUNCTION
        if not space.defined(address, count):
            return ExcCodes.ILLEGAL_ADDRESS
        self.requests += 1
        now = self.clock.now()
        if self.on_request is not None:
            self.on_request(now)
        self.refresh(now)
        return space.get(address, count)

    def handle_write(self, func_code: int, address: int, values: list[int]) -> ExcCodes | None:
        self.last_request_at = self.clock.now()
        if self.answer_exception is not None:
            return self.answer_exception
        if func_code not in (WRITE_SINGLE, WRITE_MULTIPLE, READ_WRITE_MULTIPLE):
            return ExcCodes.ILLEGAL_FUNCTION
        if not self.holding.defined(address, len(values)):
            return ExcCodes.ILLEGAL_ADDRESS
        if not self.holding.writable(address, len(values)):
            log.info("unit %d: refused write to read-only register %d", self.unit_id, address)
            return ExcCodes.ILLEGAL_ADDRESS
        now = self.clock.now()
        if self.on_request is not None:
            self.on_request(now)
        self.refresh(now)
        refused = self.check_write(address, values)
        if refused is not None:
            log.info("unit %d: refused write %s at %d", self.unit_id, values, address)
            return refused
        self.requests += 1
        self.holding.set(address, values)
        self.writes.append(WriteRecord(now, address, tuple(values)))
        self.after_write(address, len(values), now)
        return None

    def _space(self, func_code: int) -> RegisterMap | None:
        if func_code in (READ_HOLDING, WRITE_SINGLE, WRITE_MULTIPLE, READ_WRITE_MULTIPLE):
            return self.holding
        if func_code == READ_INPUT:
            return self.input
        return None
