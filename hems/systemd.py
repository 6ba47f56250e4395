"""Tell systemd how the agent is doing (the sd_notify protocol), with the standard library only.

Under systemd (``Type=notify``) the service manager passes a datagram socket in ``$NOTIFY_SOCKET``;
hems sends it ``READY=1`` once it serves, ``WATCHDOG=1`` from its loop while healthy (with
``WatchdogSec=`` systemd restarts the agent when these stop), and ``STATUS=...`` lines shown by
``systemctl status hems``. Outside systemd every function is a no-op that returns False.

    notify_ready()              the agent is up (web server listening, loop running)
    notify_watchdog()           the loop is alive; call every watchdog_interval_s()
    notify_status(text)         one line for `systemctl status`
    notify_stopping()           a clean shutdown has begun
    watchdog_interval_s()       how often to call notify_watchdog(), or None without a watchdog
"""
from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)

MAX_STATUS_CHARS = 500


def _address(env: dict[str, str] | os._Environ) -> str | None:
    """The socket address from $NOTIFY_SOCKET: a path, or '@name' for the abstract namespace."""
    value = env.get("NOTIFY_SOCKET", "")
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET=%r is neither a path nor an abstract socket; not notifying", value)
    return None


def notify(*assignments: str) -> bool:
    """Send ``KEY=value`` lines to systemd. True if sent; False outside systemd or on error."""
    address = _address(os.environ)
    if address is None:
        return False
    message = "\n".join(assignments).encode("utf-8", "replace")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", os.environ.get("NOTIFY_SOCKET"), exc)
        return False
    return True


def notify_ready(status: str | None = None) -> bool:
    """The agent serves: systemd marks the unit started (and starts units ordered after it)."""
    return notify("READY=1", *([_status_line(status)] if status else []))


def notify_watchdog() -> bool:
    """The loop is alive. With ``WatchdogSec=`` systemd restarts hems when these stop coming."""
    return notify("WATCHDOG=1")


def notify_status(text: str) -> bool:
    """One line of free text shown by ``systemctl status hems``."""
    return notify(_status_line(text))


def notify_stopping() -> bool:
    """A clean shutdown has begun (so a slow stop is not taken for a hang)."""
    return notify("STOPPING=1")


def watchdog_interval_s() -> float | None:
    """Half of systemd's watchdog timeout in seconds, or None when no watchdog applies to us."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        timeout_us = int(usec)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds; no watchdog", usec)
        return None
    return timeout_us / 2e6 if timeout_us > 0 else None


def _status_line(text: str) -> str:
    """STATUS= takes one line: newlines would start new assignments."""
    line = " ".join(str(text).split())
    return "STATUS=" + line[:MAX_STATUS_CHARS]
