"""Opening dispatch: signatures (HMAC, Ed25519), times, schema, and what the refusal says."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from hems.aggregator.auth import AuthError, Ed25519PrivateKey, Ed25519PublicKey, HmacKey, NoSigner
from hems.aggregator.messages import Codec, Refusal, format_time, schema_error, seal_dispatch

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = HmacKey(b"k" * 32)


def msg(**kw):
    m = {"v": 1, "kind": "event", "id": "e-1", "site_id": "s1", "seq": 7,
         "issued_at": format_time(NOW), "expires_at": format_time(NOW + timedelta(minutes=5)),
         "start": format_time(NOW), "duration_s": 900, "target_w": -3000}
    m.update(kw)
    return m


def codec(verifier=KEY):
    return Codec("s1", verifier, KEY)


def test_hmac_round_trip():
    d = codec().open(seal_dispatch(msg(), KEY), NOW)
    assert (d.kind, d.id, d.seq, d.body["target_w"]) == ("event", "e-1", 7, -3000)


def test_ed25519_round_trip_and_wrong_key():
    priv, other = Ed25519PrivateKey(), Ed25519PrivateKey()
    pub = Ed25519PublicKey(priv.public_raw())
    assert codec(pub).open(seal_dispatch(msg(), priv), NOW).id == "e-1"
    with pytest.raises(Refusal) as e:
        codec(pub).open(seal_dispatch(msg(), other), NOW)
    assert e.value.code == "bad_signature" and "Ed25519" in e.value.reason


def test_alg_must_match_the_site_scheme():
    priv = Ed25519PrivateKey()
    with pytest.raises(Refusal) as e:
        codec().open(seal_dispatch(msg(), priv), NOW)
    assert e.value.code == "bad_signature" and "ed25519" in e.value.reason
    with pytest.raises(Refusal):
        codec().open(seal_dispatch(msg(), NoSigner()), NOW)


@pytest.mark.parametrize("change,code,words", [
    (dict(expires_at=format_time(NOW - timedelta(seconds=1))), "expired", "expired at"),
    (dict(issued_at=format_time(NOW + timedelta(minutes=2))), "not_yet_valid", "in the future"),
    (dict(expires_at=format_time(NOW + timedelta(days=3))), "too_long_lived", "at most"),
    (dict(site_id="s2"), "wrong_site", "s2"),
    (dict(duration_s=10), "schema", "duration_s"),
    (dict(target_w=None, import_limit_w=100), "schema", "target_w"),
    (dict(extra=1), "schema", "extra"),
    (dict(start="2026-13-01T00:00:00Z"), "schema", "bad time"),
])
def test_refusal_codes_and_reasons(change, code, words):
    with pytest.raises(Refusal) as e:
        codec().open(seal_dispatch(msg(**change), KEY), NOW)
    assert e.value.code == code and words in e.value.reason, e.value.reason
    assert e.value.msg_id == "e-1"


def test_regulation_signal_must_be_short_lived():
    m = msg(kind="regulation_signal", regulation_id="r-1", signal=0.5,
            expires_at=format_time(NOW + timedelta(seconds=60)))
    for k in ("start", "duration_s", "target_w"):
        m.pop(k)
    with pytest.raises(Refusal) as e:
        codec().open(seal_dispatch(m, KEY), NOW)
    assert e.value.code == "too_long_lived"


def test_size_and_garbage():
    with pytest.raises(Refusal) as e:
        codec().open(b"{" * 20000, NOW)
    assert e.value.code == "too_large"
    for junk in (b"\xff\xfe", b"[]", b'{"v":1}', json.dumps({"v": 1, "alg": "hmac-sha256", "msg": "x{",
                                                             "sig": KEY.sign(b"x{")}).encode()):
        with pytest.raises(Refusal) as e:
            codec().open(junk, NOW)
        assert e.value.code == "malformed"


def test_key_files(tmp_path):
    (tmp_path / "short").write_text("abcd")
    with pytest.raises(AuthError, match="at least 32"):
        HmacKey.from_file(tmp_path / "short")
    with pytest.raises(AuthError, match="cannot read"):
        HmacKey.from_file(tmp_path / "missing")


def test_outgoing_schemas_hold():
    assert schema_error("status", {"v": 1, "site_id": "s1", "state": "online"}) is None
    assert schema_error("status", {"v": 1, "site_id": "s1", "state": "maybe"}) is not None
