"""Wire format: open (check and verify) incoming dispatch, seal outgoing replies and settlement.

Checks on every incoming payload, in this order; the first failure refuses the message with a
machine code and a reason in words (see `Refusal`):
  too_large -> malformed (not JSON / not an envelope) -> bad_signature -> malformed (msg not JSON)
  -> schema (dispatch.v1.json) -> wrong_site -> expired / not_yet_valid / too_long_lived -> replayed.
Only a message that passed all of them reaches arbitration.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

import jsonschema

from hems.aggregator.auth import ALG_NONE, AuthError, Signer, Verifier
from hems.domain import strictjson

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_CLOCK_SKEW_S = 30.0
MAX_LIFETIME_S = 48 * 3600.0
MAX_SIGNAL_LIFETIME_S = 30.0
SCHEMA_NAMES = ("envelope", "dispatch", "reply", "status", "telemetry", "plan", "settlement")


class Refusal(Exception):
    """A message that failed a check. `code` is machine-readable, str(self) says what was wrong."""

    def __init__(self, code: str, reason: str, msg_id: str | None = None, kind: str | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.msg_id = msg_id
        self.kind = kind


@dataclass(frozen=True)
class Dispatch:
    """A verified dispatch message: header fields parsed, the rest in `body` as sent."""
    kind: str
    id: str
    seq: int
    issued_at: datetime
    expires_at: datetime
    body: dict[str, Any]

    def time(self, key: str) -> datetime:
        return parse_time(self.body[key])


@functools.lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of schemas/<name>.v1.json (the schema files are the contract)."""
    text = (resources.files("hems.aggregator") / "schemas" / f"{name}.v1.json").read_text()
    schema = json.loads(text)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_error(name: str, doc: Any) -> str | None:
    """The most relevant validation error as 'path: message', or None when valid."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(doc))
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(message)"
    text = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    if error.validator == "not":
        text = "use either target_w or import/export limits, not both"
    return f"{path}: {text}"


def parse_time(text: str) -> datetime:
    """RFC 3339 text -> aware UTC datetime (schema-checked before this is called)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return value.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _peek(msg_text: str) -> tuple[str | None, str | None]:
    """Best-effort id and kind of an unverified message, only to label a refusal."""
    try:
        doc = strictjson.loads(msg_text)
        ident, kind = doc.get("id"), doc.get("kind")
    except (ValueError, AttributeError, TypeError):
        return None, None
    return (ident[:64] if isinstance(ident, str) else None,
            kind if isinstance(kind, str) and len(kind) < 32 else None)


class Codec:
    """Opens incoming dispatch for one site and seals what the site sends."""

    def __init__(self, site_id: str, verifier: Verifier, signer: Signer,
                 max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.site_id = site_id
        self.verifier = verifier
        self.signer = signer
        self.max_payload_bytes = max_payload_bytes

    def verified(self, payload: bytes) -> bool:
        """Cheap triage (any thread): does the payload carry this site's valid signature? No
        schema, no times: open() does every check. Never raises."""
        if len(payload) > self.max_payload_bytes:
            return False
        try:
            outer = strictjson.loads(payload, max_depth=2)
            msg, sig = outer["msg"], outer["sig"]
            if outer.get("alg") != self.verifier.alg or not isinstance(msg, str) or not isinstance(sig, str):
                return False
            self.verifier.verify(msg.encode("utf-8"), sig)
        except (ValueError, KeyError, TypeError, AttributeError, AuthError):
            return False
        return True

    def open(self, payload: bytes, now: datetime) -> Dispatch:
        """Verify and parse one payload; raise Refusal. Replay (seq) is checked by the caller."""
        if len(payload) > self.max_payload_bytes:
            raise Refusal("too_large", f"payload has {len(payload)} bytes; the limit is {self.max_payload_bytes}")
        try:
            outer = strictjson.loads(payload)
        except ValueError as exc:
            raise Refusal("malformed", f"payload refused: {exc}") from None
        problem = schema_error("envelope", outer)
        if problem is not None:
            raise Refusal("malformed", f"not a signed envelope: {problem}")
        msg_text: str = outer["msg"]
        msg_id, kind = _peek(msg_text)
        if outer["alg"] != self.verifier.alg:
            raise Refusal("bad_signature", f"alg {outer['alg']!r} is not this site's scheme "
                          f"{self.verifier.alg!r}", msg_id, kind)
        try:
            self.verifier.verify(msg_text.encode("utf-8"), outer["sig"])
        except AuthError as exc:
            raise Refusal("bad_signature", str(exc), msg_id, kind) from None
        try:
            doc = strictjson.loads(msg_text)
        except ValueError as exc:
            raise Refusal("malformed", f"msg refused: {exc}", msg_id, kind) from None
        problem = schema_error("dispatch", doc)
        if problem is not None:
            raise Refusal("schema", f"dispatch does not match dispatch.v1.json: {problem}", msg_id, kind)
        try:
            dispatch = Dispatch(kind=doc["kind"], id=doc["id"], seq=int(doc["seq"]),
                                issued_at=parse_time(doc["issued_at"]),
                                expires_at=parse_time(doc["expires_at"]), body=doc)
            if "start" in doc:
                parse_time(doc["start"])
        except ValueError as exc:
            raise Refusal("schema", f"bad time: {exc}", doc["id"], doc["kind"]) from None
        if doc["site_id"] != self.site_id:
            raise Refusal("wrong_site", f"site_id {doc['site_id']!r} is not this home ({self.site_id!r})",
                          dispatch.id, dispatch.kind)
        check_times(dispatch, now)
        return dispatch

    def seal(self, msg: dict[str, Any]) -> bytes:
        """Signed envelope bytes of an outgoing message."""
        text = json.dumps(msg, separators=(",", ":"), allow_nan=False)
        envelope = {"v": 1, "alg": self.signer.alg, "msg": text, "sig": self.signer.sign(text.encode())}
        if self.signer.alg == ALG_NONE:
            envelope["sig"] = ""
        return json.dumps(envelope, separators=(",", ":")).encode()


def check_times(d: Dispatch, now: datetime) -> None:
    """Refuse expired, future-dated and over-long-lived messages."""
    skew = timedelta(seconds=MAX_CLOCK_SKEW_S)
    if d.expires_at <= now:
        raise Refusal("expired", f"expired at {format_time(d.expires_at)} (now {format_time(now)})", d.id, d.kind)
    if d.issued_at > now + skew:
        raise Refusal("not_yet_valid", f"issued_at {format_time(d.issued_at)} is in the future "
                      f"(now {format_time(now)}; allowed skew {MAX_CLOCK_SKEW_S:.0f} s)", d.id, d.kind)
    if d.expires_at <= d.issued_at:
        raise Refusal("expired", "expires_at is not after issued_at", d.id, d.kind)
    limit_s = MAX_SIGNAL_LIFETIME_S if d.kind == "regulation_signal" else MAX_LIFETIME_S
    if (d.expires_at - d.issued_at).total_seconds() > limit_s:
        raise Refusal("too_long_lived", f"a {d.kind} may be valid for at most {limit_s:.0f} s "
                      "after issued_at", d.id, d.kind)


def seal_dispatch(msg: dict[str, Any], signer: Signer) -> bytes:
    """Aggregator side (test client, demo, benchmarks): sign a dispatch message."""
    text = json.dumps(msg, separators=(",", ":"), allow_nan=False)
    return json.dumps({"v": 1, "alg": signer.alg, "msg": text, "sig": signer.sign(text.encode())},
                      separators=(",", ":")).encode()


def open_unverified(payload: bytes) -> dict[str, Any]:
    """Aggregator side: read the msg of an envelope without checking the signature (display only)."""
    return json.loads(json.loads(payload)["msg"])
