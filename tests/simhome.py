"""The simulated home with the real agent on it, for end-to-end tests.

`sim_config(tmp_path, ports, ...)` is the project's config.toml with the devices pointed at the
simulators' ports, a private data dir and web port; `HomeRig` starts the simulated home and
builds the agent exactly as `hems run` does (hems.app.build_agent).
"""
from __future__ import annotations

import copy
from dataclasses import replace
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from hems.app import build_agent
from hems.config import Config, parse_config
from hems.demo import make_home

ROOT = Path(__file__).resolve().parents[1]


def config_dict() -> dict[str, Any]:
    with open(ROOT / "config.toml", "rb") as f:
        return tomllib.load(f)


def sim_config(data_dir: Path, web_port: int = 8080, **sections: dict[str, Any]) -> Config:
    """config.toml with free ports (0 until the home has chosen them) and overrides per section."""
    data = copy.deepcopy(config_dict())
    data["storage"]["data_dir"] = str(data_dir)
    data["web"]["port"] = web_port
    for name, values in sections.items():
        if name == "devices":          # a field set to None is removed
            for dev, fields in values.items():
                merged = {**data["devices"][dev], **fields}
                data["devices"][dev] = {k: v for k, v in merged.items() if v is not None}
        else:                          # a key set to None is removed
            data.setdefault(name, {}).update(values)
            data[name] = {k: v for k, v in data[name].items() if v is not None}
    return parse_config(data, source="test", base_dir=ROOT)


class HomeRig:
    """A simulated home on free ports plus the real agent (not yet ticking)."""

    def __init__(self, clock, start: datetime, data_dir: Path, web_port: int = 8080,
                 seed: int = 1, **sections: dict[str, Any]) -> None:
        self.clock, self.start_at, self.data_dir = clock, start, data_dir
        self.web_port, self.seed, self.sections = web_port, seed, sections
        self.home = None
        self.agent = None
        self.store = None
        self.forecaster = None
        self.config: Config | None = None

    async def __aenter__(self) -> "HomeRig":
        base = sim_config(self.data_dir, self.web_port, **self.sections)
        sim = replace(base.sim, seed=self.seed)
        self.home = make_home(base, self.clock, self.start_at, sim)
        self.home.ports = {"meter": 0, "pv": 0, "charger": 0}
        await self.home.start()
        sections = dict(self.sections)
        extra = sections.get("devices", {})
        sections["devices"] = {role: {"port": port, **extra.get(role, {})}
                               if extra.get(role, {}).get("transport") != "bridge" else extra[role]
                               for role, port in self.home.ports.items()}
        self.config = sim_config(self.data_dir, self.web_port, **sections)
        self.agent, self.store, self.forecaster = build_agent(self.config, self.clock)
        await self.agent.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.agent.stop()
        self.store.close()
        await self.home.stop()
