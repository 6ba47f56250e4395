"""Password hashing with scrypt (stdlib) and the password rules. No default password exists."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: n=2**14, r=8 -> 16 MiB and ~0.1 s on a Raspberry Pi 4: slow for guessing, fine for a login.
_N, _R, _P = 2**14, 8, 1
MIN_LENGTH = 10
MAX_LENGTH = 200


def password_problem(password: object) -> str | None:
    """Why a new password is not acceptable, or None."""
    if not isinstance(password, str):
        return "password must be a string"
    if len(password) < MIN_LENGTH:
        return f"password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must have at most {MAX_LENGTH} characters"
    if password.strip() == "" or len(set(password)) < 4:
        return "password is too simple: use at least 4 different characters"
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if kind != "scrypt":
            return False
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        got = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(digest))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, digest)
