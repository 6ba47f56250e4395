"""The edges use the agent only through hems.control.api.AgentApi, and every agent implements it."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hems.control.agent import Agent
from hems.control.api import AgentApi
from tests.web.fake_agent import FakeAgent

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = sorted(n for n in dir(AgentApi) if not n.startswith("_"))
REACH = re.compile(r"(getattr|hasattr)\((self\.)?_?agent\b|(getattr|hasattr)\([a-z_.]*agent[,)]")


def test_the_contract_covers_reads_changes_and_requests():
    for name in ("state", "plan", "envelope", "commitments", "live_settings", "set_limits", "set_tariff",
                 "set_weekly", "set_aggregator", "set_preferences", "offer", "signal", "cancel",
                 "set_default_control", "set_price_override"):
        assert name in MEMBERS, name


@pytest.mark.parametrize("impl", [Agent, FakeAgent], ids=lambda c: c.__name__)
def test_every_agent_implements_every_member(impl):
    for name in MEMBERS:
        assert hasattr(impl, name) or name in inspect.signature(impl.__init__).parameters or \
            name in _assigned_in_init(impl), f"{impl.__name__} lacks {name}"
        want = getattr(AgentApi, name)
        if inspect.iscoroutinefunction(want):
            assert inspect.iscoroutinefunction(getattr(impl, name)), f"{impl.__name__}.{name} must be async"


def _assigned_in_init(impl: type) -> set[str]:
    return set(re.findall(r"self\.(\w+)\s*[:=]", inspect.getsource(impl.__init__)))


def test_no_edge_reaches_past_the_contract():
    hits = []
    for package in ("web", "aggregator"):
        for path in (ROOT / "hems" / package).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if REACH.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []
