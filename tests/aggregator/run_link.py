"""A link with the in-test home in its own process (for the kill -9 test). argv: JSON settings."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from hems.aggregator.link import AggregatorLink
from hems.config import AggregatorConfig
from hems.domain.clock import SystemClock
from hems.store import Store
from tests.aggregator.home import HomeAgent


async def main(settings: dict) -> None:
    for key in ("ca_file", "cert_file", "key_file", "auth_key_file"):
        settings[key] = Path(settings[key])
    data_dir = Path(settings.pop("data_dir"))
    clock = SystemClock()
    agent = HomeAgent(clock)
    link = AggregatorLink(AggregatorConfig(**settings), agent, Store(data_dir / "hems.sqlite", clock=clock), clock)
    await link.start()
    await asyncio.wait_for(link.mqtt.connected.wait(), 10)
    print("ready", flush=True)
    while True:
        await agent.tick()
        await asyncio.sleep(0.5)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
