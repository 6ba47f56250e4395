"""What every OCPP-J session does, whatever the version: framing, errors, clock, logging once.

A session is the `ocpp` library's ChargePoint in the central-system role for one websocket.
On top of the library it:
  - answers a frame it cannot parse with a CALLERROR (FormatViolation / RpcFrameworkError;
    message id "-1" when the frame has none), and an unknown action with NotImplemented or
    NotSupported, on every version (the library stays silent on some);
  - logs each kind of problem once per connection (a misbehaving charger cannot flood the log);
  - measures the charger's clock offset from the timestamps it sends;
  - turns CALLERRORs, timeouts and lost connections of hems' own requests into DeviceError.
"""
from __future__ import annotations

import asyncio
import json
from collections import deque
import logging
from datetime import datetime, timedelta
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, MessageType, unpack

from hems.devices.ocpp.readings import BadValue, ocpp_time, parse_time
from hems.devices.ports import DeviceError
from hems.domain.clock import Clock

log = logging.getLogger("hems.devices.ocpp")

SKEW_IGNORED_S = 2.0        # offsets below this are network latency, not a clock error
SKEW_WARN_S = 60.0


class OnceLog:
    """Log each kind of problem once (warning), later ones at debug level."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen: set[str] = set()

    def __call__(self, kind: str, message: str, *args: Any) -> None:
        level = logging.DEBUG if kind in self.seen else logging.WARNING
        self.seen.add(kind)
        log.log(level, self.prefix + message, *args)


class _LibraryLog:
    """The logger handed to the library: its per-message info lines go to debug, its errors
    are logged once per kind."""

    def __init__(self, once: OnceLog) -> None:
        self.once = once

    def debug(self, msg: str, *args: Any) -> None:
        log.debug(msg, *args)

    info = debug

    def warning(self, msg: str, *args: Any, **_: Any) -> None:
        self.once("lib:" + msg, msg, *args)

    error = exception = warning


class SessionBase:
    """Mixed into a version's ChargePoint class (ocpp.v16 / v201 / v21)."""

    version = "?"
    format_error = "FormatViolation"          # 1.6 says FormationViolation
    frame_error = "RpcFrameworkError"         # 1.6 has no such code: ProtocolError

    def setup(self, clock: Clock, response_timeout_s: float) -> None:
        self.clock = clock
        self.once = OnceLog(f"charge point {self.id}: ")
        self.logger = _LibraryLog(self.once)
        self._response_timeout = response_timeout_s
        self.clock_offset_s = 0.0
        self._offsets: deque[float] = deque(maxlen=8)
        self.last_message_at: datetime | None = None
        self.connected_at = clock.now()

    # --- receiving ----------------------------------------------------------------------
    async def route_message(self, raw_msg: Any) -> None:  # type: ignore[override]
        self.last_message_at = self.clock.now()
        try:
            msg = unpack(raw_msg)
        except OCPPError as exc:
            self.once("frame", "unreadable frame refused (%s): %.200r", exc.description, raw_msg)
            await self._send_error(_unique_id_of(raw_msg), self._frame_code(exc), str(exc.description))
            return
        if not isinstance(msg.unique_id, str) or not msg.unique_id or len(msg.unique_id) > 36:
            self.once("frame", "frame with a bad message id refused: %.200r", raw_msg)
            await self._send_error("-1", self.frame_error, "message id must be a string of 1-36 characters")
            return
        if msg.message_type_id == MessageType.Call:
            if not isinstance(msg.payload, dict) or not isinstance(msg.action, str):
                await self._send_error(msg.unique_id, self.format_error, "payload must be an object")
                return
            if msg.action not in self.route_map:
                await self._refuse_action(msg)
                return
        await super().route_message(raw_msg)  # type: ignore[misc]

    def _frame_code(self, exc: OCPPError) -> str:
        return self.format_error if exc.code in ("FormatViolation", "FormationViolation") else self.frame_error

    async def _refuse_action(self, msg: Call) -> None:
        known = msg.action in _actions(self.version)
        code = "NotImplemented" if known else "NotSupported"
        self.once("action:" + msg.action if known else "unknown-action", "%s %.64r refused (%s)",
                  "action" if known else "unknown action", msg.action, code)
        await self._send_error(msg.unique_id, code, f"{msg.action} is not {'implemented' if known else 'supported'}")

    async def _send_error(self, unique_id: str, code: str, description: str) -> None:
        frame = json.dumps([MessageType.CallError, unique_id, code, description[:255], {}])
        try:
            await self._send(frame)  # type: ignore[attr-defined]
        except Exception as exc:     # the connection is gone: nothing left to answer
            log.debug("could not send CALLERROR: %s", exc)

    def bad_value(self, action: str, exc: BadValue) -> OCPPError:
        """A handler's refusal of a value: logged once, answered as a CALLERROR."""
        from ocpp.exceptions import PropertyConstraintViolationError

        self.once("value:" + action, "%s refused: %s", action, exc)
        return PropertyConstraintViolationError(description=str(exc)[:255])

    # --- time ---------------------------------------------------------------------------
    def note_time(self, text: Any, what: str) -> datetime | None:
        """A timestamp from the charger: measure its clock's offset from hems' clock."""
        try:
            at = parse_time(text, what)
        except BadValue as exc:
            self.once("time", "%s", exc)
            return None
        # Messages a charger kept while offline carry old times: they look like a clock far
        # behind. The largest offset among the last few messages is the live one.
        self._offsets.append((at - self.clock.now()).total_seconds())
        offset = max(self._offsets)
        self.clock_offset_s = offset if abs(offset) >= SKEW_IGNORED_S else 0.0
        if abs(offset) >= SKEW_WARN_S:
            self.once("skew", "clock is %.0f s off; hems sends it the time in Heartbeat replies and "
                      "writes profile times in its clock", offset)
        return at

    def charger_now(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.clock_offset_s)

    def now_text(self) -> str:
        return ocpp_time(self.clock.now())

    # --- sending ------------------------------------------------------------------------
    async def request(self, payload: Any) -> Any:
        """Send a CALL; its result, or DeviceError for a CALLERROR, a timeout or a lost link."""
        what = type(payload).__name__
        try:
            return await self.call(payload, suppress=False)  # type: ignore[attr-defined]
        except OCPPError as exc:
            raise DeviceError(f"charge point {self.id}: {what} answered {exc.code}: {exc.description}") from None
        except asyncio.TimeoutError:
            raise DeviceError(f"charge point {self.id}: no answer to {what} "
                              f"within {self._response_timeout:g} s") from None
        except Exception as exc:   # ConnectionClosed and friends
            raise DeviceError(f"charge point {self.id}: {what} failed: {type(exc).__name__} {exc}") from None


def _unique_id_of(raw: Any) -> str:
    try:
        msg = json.loads(raw)
        if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str) and 0 < len(msg[1]) <= 36:
            return msg[1]
    except (ValueError, TypeError):
        pass
    return "-1"


def _actions(version: str) -> set[str]:
    if version == "1.6":
        from ocpp.v16.enums import Action
    elif version == "2.1":
        from ocpp.v21.enums import Action  # type: ignore[no-redef]
    else:
        from ocpp.v201.enums import Action  # type: ignore[no-redef]
    return {a.value for a in Action}
