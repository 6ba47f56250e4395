"""hems.systemd speaks the sd_notify protocol to a real unix datagram socket, as systemd does."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from hems import systemd


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_watchdog_status_reach_the_socket(notify_socket):
    assert systemd.notify_ready() is True
    assert received(notify_socket) == ["READY=1"]
    assert systemd.notify_watchdog() is True
    assert received(notify_socket) == ["WATCHDOG=1"]
    assert systemd.notify_status("planning: 3 slots, grid 1200 W") is True
    assert received(notify_socket) == ["STATUS=planning: 3 slots, grid 1200 W"]
    assert systemd.notify_stopping() is True
    assert received(notify_socket) == ["STOPPING=1"]


def test_ready_with_status_is_one_datagram(notify_socket):
    systemd.notify_ready("serving on :80")
    assert received(notify_socket) == ["READY=1", "STATUS=serving on :80"]


def test_status_cannot_inject_other_assignments(notify_socket):
    systemd.notify_status("line one\nREADY=1\n\tline two")
    assert received(notify_socket) == ["STATUS=line one READY=1 line two"]


def test_long_status_is_cut(notify_socket):
    systemd.notify_status("x" * 5000)
    (line,) = received(notify_socket)
    assert line == "STATUS=" + "x" * systemd.MAX_STATUS_CHARS


def test_abstract_namespace_socket(monkeypatch):
    name = f"hems-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify_watchdog() is True
        assert sock.recv(100) == b"WATCHDOG=1"


def test_no_op_outside_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify_ready() is False
    assert systemd.notify_watchdog() is False
    assert systemd.notify_status("x") is False


def test_gone_socket_is_logged_not_raised(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "no-such-socket"))
    assert systemd.notify_watchdog() is False
    assert "cannot notify systemd" in caplog.text


def test_relative_socket_value_is_refused(monkeypatch, caplog):
    monkeypatch.setenv("NOTIFY_SOCKET", "relative/path")
    assert systemd.notify_ready() is False
    assert "neither a path" in caplog.text


@pytest.mark.parametrize("usec, pid, expected", [
    ("60000000", None, 30.0),
    ("60000000", "self", 30.0),
    ("60000000", "1", None),          # the watchdog is another process's
    ("0", None, None),
    ("sixty", None, None),
    (None, None, None),
])
def test_watchdog_interval(monkeypatch, usec, pid, expected):
    for key, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, str(os.getpid()) if value == "self" else value)
    assert systemd.watchdog_interval_s() == expected
