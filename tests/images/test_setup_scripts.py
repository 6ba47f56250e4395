"""The image's first-boot scripts, run natively: hems-setup's pure parts and the error page server.

(The boot test runs them for real inside the image; these run in every `make test`, fast.)
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

SCRIPTS = Path(__file__).resolve().parents[2] / "images" / "rootfs" / "usr" / "local" / "lib" / "hems-image"
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "images" / "boot" / "hems" / "config.toml"


def load(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(SCRIPTS / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def setup():
    return load("hems-setup")


def test_wpa_psk_matches_the_ieee_802_11i_test_vector(setup):
    conf = setup.wpa_config("IEEE", "password", "NL")
    assert "psk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e" in conf
    assert "password" not in conf.replace("psk=", "")     # the passphrase itself is not stored
    assert "country=NL" in conf and 'ssid="IEEE"' in conf


def test_wifi_ssid_is_quoted_safely(setup):
    conf = setup.wpa_config('my "home"\nnet', "12345678", "")
    assert 'ssid="my \\"home\\"\\nnet"' in conf and "country" not in conf


@pytest.mark.parametrize("text, error", [
    ('[wifi]\nssid = "home"\n', "missing 'password'"),
    ('[wifi]\nssid = "home"\npassword = "short"\n', "8 to 63"),
    ('[wifi]\nssid = ""\npassword = "long enough"\n', "1 to 32 bytes"),
    ('[wifi]\nssid = "home"\npassword = "long enough"\ncountry = "NLD"\n', "two-letter"),
    ('[wifi\nssid = "home"\n', "not valid TOML"),
])
def test_bad_wifi_settings_are_named(setup, text, error):
    wifi, errors = setup.parse_wifi(text, Path("hems/wifi.toml"))
    assert wifi is None and len(errors) == 1
    assert error in errors[0] and "hems/wifi.toml" in errors[0]


def test_good_wifi_settings(setup):
    wifi, errors = setup.parse_wifi('[wifi]\ncountry = "de"\nssid = "home"\npassword = "long enough"\n',
                                    Path("wifi.toml"))
    assert errors == [] and wifi == ("home", "long enough", "DE")


def test_web_port_of_reads_even_a_refused_config(setup, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[site]\nmain_fuse_a = -1\n[web]\nport = 8123\n')
    assert setup.web_port_of(config) == 8123
    config.write_text('[web]\nport = 70000\n')
    assert setup.web_port_of(config) is None
    config.write_text('not toml [')
    assert setup.web_port_of(config) is None


def test_ocpp_port_is_opened_only_for_an_ocpp_charger(setup, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[devices.charger]\nrole = "charger"\ntransport = "tcp"\n')
    assert setup.ocpp_port_of(config) is None
    config.write_text('[devices.charger]\nrole = "charger"\ntransport = "ocpp"\ncharge_point_id = "cp1"\n')
    assert setup.ocpp_port_of(config) == 8887
    config.write_text('[ocpp]\nport = 9000\n[devices.charger]\nrole = "charger"\ntransport = "ocpp"\n')
    assert setup.ocpp_port_of(config) == 9000
    config.write_text('not toml [')
    assert setup.ocpp_port_of(config) is None


def test_image_rules(setup, tmp_path):
    config = tmp_path / "config.toml"
    assert setup.image_rules(SHIPPED_CONFIG) == []
    config.write_text('[web]\nbind = "127.0.0.1"\n[storage]\ndata_dir = "/home/pi/hems"\n')
    errors = setup.image_rules(config)
    assert any(e.startswith("web.bind:") for e in errors)
    assert any(e.startswith("storage.data_dir:") and "/var/lib/hems" in e for e in errors)
    config.write_text('[web]\nbind = "0.0.0.0"\n[storage]\ndata_dir = "/var/lib/hems/site"\n')
    assert setup.image_rules(config) == []


def test_error_page_serves_the_errors_with_503(tmp_path):
    port = free_port()
    status = tmp_path / "status.json"
    errors = ["site.main_fuse_a: -25 must be > 0", "web.bind: <script>x</script>"]
    status.write_text(json.dumps({"errors": errors, "web_port": port}))
    proc = subprocess.Popen([sys.executable, str(SCRIPTS / "config-error-page")],
                            env={"HEMS_SETUP_STATUS": str(status), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        health = page = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and page is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
            except urllib.error.HTTPError as e:
                health = (e.code, json.loads(e.read()))
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                except urllib.error.HTTPError as e2:
                    page = (e2.code, e2.read().decode())
            except OSError:
                time.sleep(0.2)
        assert health == (503, {"status": "config_error", "errors": errors})
        assert page[0] == 503
        assert "site.main_fuse_a: -25 must be &gt; 0" in page[1]
        assert "<script>" not in page[1]                  # errors are escaped
    finally:
        proc.terminate()
        proc.wait(10)


def test_an_unchanged_config_is_not_checked_again_until_hems_changes(setup, tmp_path, monkeypatch):
    staging, state, version = tmp_path / "staging", tmp_path / "state", tmp_path / "image-version"
    staging.mkdir(), state.mkdir()
    (staging / "config.toml").write_text(SHIPPED_CONFIG.read_text())
    version.write_text("1.0.0\n")
    calls = tmp_path / "calls"
    checker = ("import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
               "p.write_text(p.read_text() + 'x') if p.exists() else p.write_text('x'); "
               "sys.exit(0 if 'bad' not in pathlib.Path(sys.argv[2]).read_text() else 1)")
    monkeypatch.setattr(setup, "STAGING_DIR", staging)
    monkeypatch.setattr(setup, "STATE_DIR", state)
    monkeypatch.setattr(setup, "IMAGE_VERSION", version)
    monkeypatch.setattr(setup, "CHECK_CONFIG", (sys.executable, "-c", checker, str(calls)))

    def boot() -> list[str]:
        staged = staging / "config.toml"
        key = setup.checked_key()
        return [] if setup.already_checked(key) else setup.check_config(staged, key)

    assert boot() == [] and calls.read_text() == "x"            # first boot: checked
    assert boot() == [] and calls.read_text() == "x"            # same files, same hems: not again
    (staging / "ca.pem").write_text("a certificate the config names")
    assert boot() == [] and calls.read_text() == "xx"           # another file on the boot partition
    version.write_text("2.0.0\n")
    assert boot() == [] and calls.read_text() == "xxx"          # an update: checked by the new hems
    (staging / "config.toml").write_text("bad = true\n")
    assert boot() and calls.read_text() == "xxxx"               # refused: nothing remembered
    assert boot() and calls.read_text() == "xxxxx"


def test_ssh_host_keys_are_kept_for_the_next_slot(setup, tmp_path, monkeypatch):
    """Made once, kept on the data partition, put back into a new slot's empty /etc/ssh."""
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setattr(setup, "STATE_DIR", state)
    def keygen(*argv: str, check: bool = True):      # ssh-keygen -A: the missing kinds only
        assert argv == ("ssh-keygen", "-A")
        etc = tmp_path / "slot-a"
        for kind in ("ed25519", "ecdsa"):
            if not (etc / f"ssh_host_{kind}_key").exists():
                (etc / f"ssh_host_{kind}_key").write_text(f"{kind} secret of slot A\n")
        return subprocess.CompletedProcess(argv, 0, "", "")

    (tmp_path / "slot-a").mkdir()
    monkeypatch.setattr(setup, "run", keygen)
    setup.keep_host_keys(tmp_path / "slot-a")
    assert sorted(p.name for p in (state / "ssh").iterdir()) == ["ssh_host_ecdsa_key", "ssh_host_ed25519_key"]
    assert (state / "ssh").stat().st_mode & 0o777 == 0o700

    slot_b = tmp_path / "slot-b"                       # an update: a fresh root file system
    slot_b.mkdir()
    monkeypatch.setattr(setup, "run", lambda *argv, check=True: subprocess.CompletedProcess(argv, 0, "", ""))
    setup.keep_host_keys(slot_b)
    assert (slot_b / "ssh_host_ed25519_key").read_text() == "ed25519 secret of slot A\n"
    assert (slot_b / "ssh_host_ecdsa_key").read_text() == "ecdsa secret of slot A\n"
