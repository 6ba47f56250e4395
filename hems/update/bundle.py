"""Check a RAUC update bundle with `rauc info` against the keyring of this system.

Bundles are in RAUC's `plain` format: the CMS signature covers the whole bundle, so `rauc info`
reads every byte and a damaged bundle is refused here, before anything is written to a slot
(a `verity` bundle would only fail half-way through the install). The refusals are sorted into
messages an owner can act on.
"""
from __future__ import annotations

import configparser
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONF = Path("/etc/rauc/system.conf")
TIMEOUT_S = 600.0


class BundleError(Exception):
    """The bundle is refused, or updates are not possible here; the message says why."""


@dataclass(frozen=True)
class UpdateSystem:
    """What this machine accepts: its RAUC compatible string and the keyring of trusted CAs."""
    compatible: str
    keyring: Path

    @classmethod
    def from_conf(cls, path: Path = SYSTEM_CONF) -> "UpdateSystem":
        parser = configparser.ConfigParser()
        try:
            if not parser.read(path):
                raise BundleError(f"updates are not set up on this system (no {path})")
        except configparser.Error as exc:
            raise BundleError(f"{path} is unreadable: {exc}") from None
        compatible = parser.get("system", "compatible", fallback=None)
        keyring = parser.get("keyring", "path", fallback=None)
        if not compatible or not keyring:
            raise BundleError(f"{path} lacks [system] compatible or [keyring] path")
        keyring_path = Path(keyring) if Path(keyring).is_absolute() else path.parent / keyring
        return cls(compatible, keyring_path)


@dataclass(frozen=True)
class BundleInfo:
    compatible: str
    version: str
    signer: str          # the subject of the certificate that signed it
    size_b: int


def _refusal(stderr: str) -> str:
    text = stderr.strip()
    if re.search(r"Verify error|unable to get (local )?issuer|self.signed certificate|certificate has expired"
                 r"|no matching certificate|signer certificate not found", text, re.I):
        detail = re.search(r"Verify error: (.*)", text)
        return ("the bundle is not signed by a key this system trusts"
                + (f" ({detail.group(1).strip()})" if detail else ""))
    if re.search(r"content verify error|verification failure|digest failure", text, re.I):
        return "the bundle is damaged: its content does not match its signature"
    if re.search(r"Invalid bundle format|signature size|too small|not a bundle", text, re.I):
        return "not a hems update bundle (no valid RAUC bundle structure or signature)"
    if re.search(r"unsquashfs", text):
        return "this system cannot read bundles: unsquashfs (squashfs-tools) is missing"
    lines = [line for line in text.splitlines() if "rauc-Message" not in line]
    return "the bundle was refused: " + (lines[-1] if lines else "rauc info failed")


def verify_bundle(path: Path, system: UpdateSystem, rauc: str = "rauc") -> BundleInfo:
    """Check the signature over the whole bundle and that it is meant for this system."""
    if not path.is_file() or path.stat().st_size == 0:
        raise BundleError("no bundle: the file is empty or missing")
    try:
        done = subprocess.run([rauc, "info", f"--keyring={system.keyring}", "--output-format=json", str(path)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except FileNotFoundError:
        raise BundleError("updates are not possible here: the rauc program is not installed") from None
    except subprocess.TimeoutExpired:
        raise BundleError(f"checking the bundle took over {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        raise BundleError(_refusal(done.stderr))
    try:
        info = json.loads(done.stdout)
        compatible, version = str(info["compatible"]), str(info["version"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BundleError(f"rauc info gave no readable answer: {exc}") from None
    if compatible != system.compatible:
        raise BundleError(f"the bundle is for {compatible!r}, this system is {system.compatible!r}")
    signer = re.search(r"Verified \w+ signature by '([^']*)'", done.stderr)
    return BundleInfo(compatible, version, signer.group(1) if signer else "", path.stat().st_size)
