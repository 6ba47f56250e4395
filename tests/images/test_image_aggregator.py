"""The aggregator link of the image under QEMU, through a power cut: the box enrolled with a
host-side aggregator (real mosquitto, mutual TLS) accepts events, loses power as soon as it
answered, and after the next boot settles them. Nothing accepted is lost: the events are on the
card when the power comes back, and their settlements reach the aggregator."""
from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from hems.aggregator.messages import parse_time

from guest_aggregator import GuestAggregator
from image_vm import Image, Vm, power_on, sd_card
from test_image_boot import BOOT_TIMEOUT_S, GUEST_WEB_PORT, site_config
from test_image_powercut import data_partition, database_of

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(2400)]

LINK_TIMEOUT_S = 180          # hems started -> connected (after the boot itself)
# Without devices the VM has no car: an event that starts at once is refused ("unplugged"), and
# a target power cannot be met (no state of charge, no room to charge). A site import limit
# that starts a little later is what such a home accepts (EV held at 0 W).
EVENT_LEAD_S = 30
IMPORT_LIMIT_W = 3000.0
# Two events back to back: the first ends while the box is off (settled as it starts again),
# the second normally after it is back (resumed, then settled at its end).
DURATIONS_S = (60, 150)


@pytest.fixture
def aggregator(tmp_path: Path):
    agg = GuestAggregator(tmp_path / "aggregator")
    agg.start()
    yield agg
    agg.stop()


def enrolled_card(image: Image, workdir: Path, agg: GuestAggregator) -> Path:
    """A card whose config enrols the box with `agg` (its files under hems/ on the boot partition)."""
    disk = sd_card(image, workdir, site_config() + agg.config_toml())
    boot = image.partitions(disk)[0].start_b
    agg.install(disk, boot, workdir)
    return disk


def boot_online(image: Image, disk: Path, workdir: Path, agg: GuestAggregator, since: float | None) -> Vm:
    """Power the card on and wait until its link is online (a status published after `since`)."""
    vm = power_on(image, disk, GUEST_WEB_PORT, workdir, forwards=(agg.forward(),))
    vm.wait_console(r"Started \S*hems\.service", BOOT_TIMEOUT_S)
    try:
        agg.wait_online(LINK_TIMEOUT_S, since=since)
    except AssertionError as exc:
        pytest.fail(f"{exc}\n--- console tail ---\n{vm.console()[-4000:]}")
    return vm


def accept_events(agg: GuestAggregator, durations_s: tuple[int, ...]) -> list[dict[str, Any]]:
    """Back-to-back events the box accepts (see EVENT_LEAD_S), the first starting soon; their
    replies."""
    agg.wait_plan(LINK_TIMEOUT_S)
    start = datetime.now(timezone.utc) + timedelta(seconds=EVENT_LEAD_S)
    replies = []
    for duration_s in durations_s:
        reply = agg.send_event(start, duration_s, import_limit_w=IMPORT_LIMIT_W)
        assert reply["status"] in ("accepted", "modified"), reply
        replies.append(reply)
        start += timedelta(seconds=duration_s)
    return replies


def window(reply: dict[str, Any]) -> tuple[datetime, datetime]:
    """The start and end the box accepted."""
    return parse_time(reply["delivered"]["start"]), parse_time(reply["delivered"]["end"])


def wait_until(when: datetime) -> None:
    """A wall-clock moment (an event's end) has passed."""
    time.sleep(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()))


def stored_events(image: Image, disk: Path, workdir: Path) -> dict[str, str]:
    """event_id -> state in agg_events, read from the card as the power cut left it."""
    conn: sqlite3.Connection = database_of(data_partition(image, disk, workdir), workdir)
    try:
        return dict(conn.execute("SELECT event_id, state FROM agg_events").fetchall())
    finally:
        conn.close()


def check_settlement(settlement: dict[str, Any], reply: dict[str, Any]) -> None:
    """The settlement covers the window the box accepted, to its end."""
    delivered = reply["delivered"]
    start, end = window(reply)
    assert settlement["event_id"] == reply["in_reply_to"]
    assert settlement["start"] == delivered["start"] and settlement["end"] == delivered["end"], (settlement, reply)
    assert settlement["cancelled"] is False
    assert sum(i["duration_s"] for i in settlement["intervals"]) == pytest.approx((end - start).total_seconds(),
                                                                                 abs=0.01)


def test_power_cut_after_accepted_events_loses_nothing(image: Image, aggregator: GuestAggregator,
                                                       tmp_path: Path):
    disk = enrolled_card(image, tmp_path, aggregator)
    vms: list[Vm] = []
    try:
        vms.append(boot_online(image, disk, tmp_path, aggregator, since=None))
        replies = accept_events(aggregator, DURATIONS_S)
        vms[-1].kill()                                  # the power cut, right after the answer
        cut = time.monotonic()
        ids = [r["in_reply_to"] for r in replies]
        stored = stored_events(image, disk, tmp_path)
        assert {i: stored.get(i) for i in ids} == {i: "active" for i in ids}, stored

        wait_until(window(replies[0])[1])               # the first one ends while the box is off
        vms.append(boot_online(image, disk, tmp_path, aggregator, since=cut))
        back = datetime.now(timezone.utc)
        last_end = window(replies[-1])[1]
        for reply in replies:
            timeout_s = max(0.0, (last_end - datetime.now(timezone.utc)).total_seconds()) + LINK_TIMEOUT_S
            check_settlement(aggregator.wait_settlement(reply["in_reply_to"], timeout_s), reply)
        print(f"\npower cut -> both settled: {time.monotonic() - cut:.0f} s; the last event ended "
              f"{(last_end - back).total_seconds():.0f} s after the box was back online")
    finally:
        for vm in vms:
            vm.stop()
