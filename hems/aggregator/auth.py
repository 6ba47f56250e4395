"""Signatures on aggregator messages: HMAC-SHA256 with a per-site key, or Ed25519.

The signed wire form is a small JSON envelope that carries the message as a JSON *string*::

    {"v": 1, "alg": "hmac-sha256", "msg": "{\"kind\":\"event\",...}", "sig": "<base64>"}

The signature covers the UTF-8 bytes of `msg` exactly as sent, so neither side has to
canonicalise JSON (no key-order or float-formatting disputes between languages).

Why two schemes:
  hmac-sha256  (default) stdlib only, ~1 us per message on a Pi. The key is per site, so a key
               stolen from one home commands that home only. Both directions are signed with it:
               the aggregator can trust replies and settlement too.
  ed25519      the home holds only the aggregator's *public* key: nothing on the SD card can
               forge a dispatch. Replies and settlement then go out unsigned (alg "none"); the
               home is authenticated by its TLS client certificate and the broker's ACL.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from pathlib import Path
from typing import Protocol

ALG_HMAC = "hmac-sha256"
ALG_ED25519 = "ed25519"
ALG_NONE = "none"
MIN_HMAC_KEY_BYTES = 32


class AuthError(Exception):
    """A key file is unusable or a signature does not verify. The message says which."""


class Verifier(Protocol):
    alg: str

    def verify(self, msg: bytes, sig_b64: str) -> None:
        """Raise AuthError unless sig is a valid signature of msg."""


class Signer(Protocol):
    alg: str

    def sign(self, msg: bytes) -> str:
        """Base64 signature of msg ('' for alg none)."""


def _b64decode(sig_b64: str) -> bytes:
    try:
        return base64.b64decode(sig_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise AuthError(f"signature is not valid base64: {exc}") from None


class HmacKey:
    """HMAC-SHA256 with a shared per-site secret; signs and verifies."""

    alg = ALG_HMAC

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_HMAC_KEY_BYTES:
            raise AuthError(f"HMAC key has {len(key)} bytes; at least {MIN_HMAC_KEY_BYTES} are needed")
        self._key = key

    @classmethod
    def from_file(cls, path: str | Path) -> "HmacKey":
        """A key file holds the secret as hex or base64 text (one line), e.g. `openssl rand -hex 32`."""
        text = _read_key_text(path)
        for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True)):
            try:
                return cls(decode(text))
            except (ValueError, binascii.Error):
                continue
        raise AuthError(f"{path}: HMAC key must be hex or base64 text")

    def sign(self, msg: bytes) -> str:
        return base64.b64encode(hmac.new(self._key, msg, hashlib.sha256).digest()).decode("ascii")

    def verify(self, msg: bytes, sig_b64: str) -> None:
        expected = hmac.new(self._key, msg, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64decode(sig_b64)):
            raise AuthError("HMAC-SHA256 signature does not match the site key")


class Ed25519PublicKey:
    """Verifies Ed25519 signatures with the aggregator's public key."""

    alg = ALG_ED25519

    def __init__(self, raw_public_key: bytes) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as _Pub

        if len(raw_public_key) != 32:
            raise AuthError(f"Ed25519 public key has {len(raw_public_key)} bytes; 32 are needed")
        self._key = _Pub.from_public_bytes(raw_public_key)

    @classmethod
    def from_file(cls, path: str | Path) -> "Ed25519PublicKey":
        """PEM (`-----BEGIN PUBLIC KEY-----`), or the raw 32-byte key as hex or base64 text."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as _Pub

        text = _read_key_text(path)
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_public_key(text.encode("ascii"))
            except ValueError as exc:
                raise AuthError(f"{path}: not a PEM public key: {exc}") from None
            if not isinstance(key, _Pub):
                raise AuthError(f"{path}: PEM key is not an Ed25519 public key")
            return cls(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True)):
            try:
                return cls(decode(text))
            except (ValueError, binascii.Error):
                continue
        raise AuthError(f"{path}: Ed25519 public key must be PEM, hex or base64")

    def verify(self, msg: bytes, sig_b64: str) -> None:
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(_b64decode(sig_b64), msg)
        except InvalidSignature:
            raise AuthError("Ed25519 signature does not verify with the aggregator's public key") from None


class Ed25519PrivateKey:
    """Signs with an Ed25519 private key: the aggregator side (test client, demo, benchmarks)."""

    alg = ALG_ED25519

    def __init__(self, key=None) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as _Priv

        self._key = key if key is not None else _Priv.generate()

    @classmethod
    def from_file(cls, path: str | Path) -> "Ed25519PrivateKey":
        from cryptography.hazmat.primitives import serialization

        try:
            return cls(serialization.load_pem_private_key(Path(path).read_bytes(), password=None))
        except (OSError, ValueError, TypeError) as exc:
            raise AuthError(f"{path}: cannot load Ed25519 private key: {exc}") from None

    def public_raw(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw)

    def sign(self, msg: bytes) -> str:
        return base64.b64encode(self._key.sign(msg)).decode("ascii")


class NoSigner:
    alg = ALG_NONE

    def sign(self, msg: bytes) -> str:
        return ""


def _read_key_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthError(f"cannot read key file {path}: {exc}") from None


def load_site_keys(auth: str, key_file: str | Path) -> tuple[Verifier, Signer]:
    """The verifier for incoming dispatch and the signer for outgoing replies and settlement."""
    if auth == ALG_HMAC or auth == "hmac":
        key = HmacKey.from_file(key_file)
        return key, key
    if auth == ALG_ED25519:
        return Ed25519PublicKey.from_file(key_file), NoSigner()
    raise AuthError(f"aggregator.auth: {auth!r} is not a scheme (use 'hmac' or 'ed25519')")
