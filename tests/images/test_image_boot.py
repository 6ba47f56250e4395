"""Boot the test image under qemu-system-aarch64 -M virt and check what an installer would see:
the config from the boot partition applied at first boot, hems.service running and answering HTTP
through the forwarded port, and a refused config shown on the console and on the web port."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest

from image_vm import Image, Vm, power_on, sd_card

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(2400)]

BOOT_TIMEOUT_S = 480
GUEST_WEB_PORT = 8080        # not the image default (80): answering on it proves the config was applied
SHIPPED = Path(__file__).resolve().parents[2] / "images" / "boot" / "hems" / "config.toml"
DATA_MIB = 64                # the data partition as built; the first boot grows it to the card


def site_config(**replace: str) -> str:
    """The config shipped on the image, on the test web port, made unique, with replacements."""
    text = SHIPPED.read_text()
    text = re.sub(r"^port = 80 .*$", f"port = {GUEST_WEB_PORT}", text, count=1, flags=re.M)
    assert f"port = {GUEST_WEB_PORT}" in text
    # devices on the guest's own loopback (each its own port): the VM reaches no other network
    text = re.sub(r'^host = "[0-9.]+"', 'host = "127.0.0.1"', text, flags=re.M)
    ports = iter(range(15021, 15030))
    text = re.sub(r"^port = 502$", lambda _m: f"port = {next(ports)}", text, flags=re.M)
    assert "192.168." not in text and "port = 502\n" not in text
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text + f"\n# boot test {uuid.uuid4()}\n"


@pytest.fixture
def boot(image: Image, tmp_path: Path):
    vms: list[Vm] = []

    def start(config_text: str) -> Vm:
        vm = power_on(image, sd_card(image, tmp_path, config_text), GUEST_WEB_PORT, tmp_path)
        vms.append(vm)
        return vm

    yield start
    for vm in vms:
        vm.stop()


def test_first_boot_applies_the_config_and_hems_serves(boot, image: Image):
    config = site_config()
    vm = boot(config)
    applied = vm.wait_console(r"hems-setup: config applied \(sha256 ([0-9a-f]{64})\)", BOOT_TIMEOUT_S)
    assert applied.group(1) == hashlib.sha256(config.encode()).hexdigest()

    status, body = vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=200)
    health = json.loads(body)
    assert health["status"] in ("ok", "degraded")
    # no device answers in the VM: the agent says so instead of pretending
    assert health["status"] == "degraded" and health["problems"]
    boot_s = vm.elapsed_s()
    console = vm.console()
    assert re.search(r"Started \S*hems\.service", console)
    assert "CONFIG ERROR" not in console
    # the firewall loaded and let the configured port in (the answer above came through it)
    assert "Failed to start nftables" not in console and "firewall: cannot open" not in console

    grown = re.search(r"data file system grown to (\d+) MiB", console)
    assert grown, "the data partition was not grown to the card"
    assert int(grown.group(1)) > DATA_MIB + 256
    assert vm.slot == "A"
    vm.wait_console(r"boot-check: slot A .* is the committed slot", 120)
    print(f"\nboot to HTTP 200 on /api/v1/health: {boot_s:.0f} s")


def test_refused_config_is_shown_on_console_and_web(boot):
    vm = boot(site_config(**{"main_fuse_a = 25 ": "main_fuse_a = -25 "}))
    vm.wait_console(r"hems-setup: CONFIG ERROR: .*main_fuse_a", BOOT_TIMEOUT_S)
    status, body = vm.wait_http("/api/v1/health", BOOT_TIMEOUT_S, want_status=503)
    health = json.loads(body)
    assert health["status"] == "config_error"
    assert any("main_fuse_a" in e for e in health["errors"])
    status, page = vm.wait_http("/", 30, want_status=503)
    assert b"main_fuse_a" in page and b"hems is not running" in page
    assert not re.search(r"Started \S*hems\.service", vm.console())
