"""Shared fixtures. Each package's tests live in tests/<package>/."""
from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def tcp_port() -> int:
    return free_port()
