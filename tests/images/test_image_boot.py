"""Boot the test image under qemu-system-aarch64 -M virt with a config the installer got wrong:
refused, shown on the console and on the web port, hems not started. (A first boot with a good
config is checked in test_image_lifecycle.py, on the fresh card a backup is restored to.)"""
from __future__ import annotations

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
