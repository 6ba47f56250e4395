"""Passphrase encryption of a backup's secrets: scrypt derives a key, AES-256-GCM seals.

The parameters travel with the ciphertext (a small dict in the manifest), so a later hems can
raise the cost without breaking old backups. GCM authenticates: a wrong passphrase and a
modified ciphertext are refused alike (the two cannot be told apart, by design).
"""
from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

CIPHER = "AES-256-GCM"
KDF = "scrypt"
# scrypt cost: 2**15 x 8 x 128 B = 32 MiB of memory, about 0.1 s on a laptop and 0.5 s on a Pi 4.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
# bounds accepted when reading (a hostile file must not make us allocate gigabytes)
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 2**20, 16, 4
MIN_PASSPHRASE_CHARS = 8


class SealError(Exception):
    """The secrets cannot be opened: wrong passphrase, altered backup, or unknown parameters."""


@dataclass(frozen=True)
class SealParams:
    salt: bytes
    nonce: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def to_json(self) -> dict[str, Any]:
        return {"kdf": KDF, "n": self.n, "r": self.r, "p": self.p, "cipher": CIPHER,
                "salt": base64.b64encode(self.salt).decode(), "nonce": base64.b64encode(self.nonce).decode()}

    @classmethod
    def from_json(cls, data: Any) -> "SealParams":
        if not isinstance(data, dict):
            raise SealError("encryption parameters missing from the manifest")
        if data.get("kdf") != KDF or data.get("cipher") != CIPHER:
            raise SealError(f"unknown encryption {data.get('kdf')!r}/{data.get('cipher')!r} "
                            f"(this hems reads {KDF}/{CIPHER})")
        try:
            n, r, p = (int(data[k]) for k in ("n", "r", "p"))
            salt = base64.b64decode(data["salt"], validate=True)
            nonce = base64.b64decode(data["nonce"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise SealError(f"encryption parameters unreadable: {exc}") from None
        if not (2 <= n <= MAX_SCRYPT_N and n & (n - 1) == 0 and 1 <= r <= MAX_SCRYPT_R
                and 1 <= p <= MAX_SCRYPT_P):
            raise SealError(f"scrypt parameters out of range (n={n}, r={r}, p={p})")
        if len(salt) < 16 or len(nonce) != 12:
            raise SealError("encryption salt or nonce has the wrong length")
        return cls(salt=salt, nonce=nonce, n=n, r=r, p=p)


def check_passphrase(passphrase: str) -> None:
    """A new backup's passphrase: refuse one too short to resist guessing."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise SealError(f"the passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")


def _key(passphrase: str, params: SealParams) -> bytes:
    kdf = Scrypt(salt=params.salt, length=32, n=params.n, r=params.r, p=params.p)
    return kdf.derive(passphrase.encode("utf-8"))


def seal(plaintext: bytes, passphrase: str, aad: bytes, params: SealParams | None = None
         ) -> tuple[SealParams, bytes]:
    """Encrypt plaintext under the passphrase; aad is authenticated but not encrypted."""
    check_passphrase(passphrase)
    params = params or SealParams(salt=os.urandom(16), nonce=os.urandom(12))
    return params, AESGCM(_key(passphrase, params)).encrypt(params.nonce, plaintext, aad)


def unseal(ciphertext: bytes, passphrase: str, aad: bytes, params: SealParams) -> bytes:
    try:
        return AESGCM(_key(passphrase, params)).decrypt(params.nonce, ciphertext, aad)
    except InvalidTag:
        raise SealError("wrong passphrase, or the backup was altered") from None
