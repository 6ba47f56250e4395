"""Property tests of every parser hems points at the outside world: whatever comes in, each one
returns a valid value or refuses with its own error type naming the problem. Never another
exception, never a non-finite number past it.

(config.toml: tests/config/test_config_fuzz.py; Modbus profiles: tests/devices/test_garbage_values.py;
bridge frames in depth: tests/firmware_bridge/test_bridge_host.py.)
"""
from __future__ import annotations

import asyncio
import json
import math
from datetime import datetime, timedelta, timezone

from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, given, settings, strategies as st

from firmware_bridge import protocol as P
from hems.aggregator.auth import HmacKey
from hems.aggregator.homeassistant import parse_command
from hems.aggregator.messages import Codec, Refusal, format_time
from hems.aggregator.topics import Topics
from hems.devices.modbus.codec import TYPES, CodecError, decode, register_count, scaled
from hems.domain import strictjson
from hems.web.errors import ApiError
from hems.web.validate import body_json

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = HmacKey(b"p" * 32)
CODEC = Codec("s1", KEY, KEY)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True) \
    | st.text(max_size=30)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=5)
                           | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=30)


def all_finite(doc) -> bool:
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return False
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


@FAST
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_strictjson_on_any_input(data):
    try:
        doc = strictjson.loads(data)
    except strictjson.StrictJsonError as exc:
        assert str(exc)
        return
    assert all_finite(doc)


@FAST
@given(json_values)
def test_strictjson_round_trips_or_refuses_non_finite(value):
    text = json.dumps(value)          # allow_nan: NaN/Infinity appear as bare words
    try:
        doc = strictjson.loads(text)
    except strictjson.StrictJsonError:
        assert not all_finite(value) or "\\ud" in text.lower()
        return
    assert all_finite(doc)


def dispatch(body: dict) -> dict:
    msg = {"v": 1, "kind": "event", "id": "e-1", "site_id": "s1", "seq": 7, "issued_at": format_time(NOW),
           "expires_at": format_time(NOW + timedelta(minutes=5)), "start": format_time(NOW),
           "duration_s": 900, "target_w": -3000}
    msg.update(body)
    return msg


def envelope(text: str, sig: str | None = None) -> bytes:
    return json.dumps({"v": 1, "alg": KEY.alg, "msg": text, "sig": KEY.sign(text.encode("utf-8", "surrogatepass"))
                       if sig is None else sig}).encode()


@FAST
@given(st.binary(max_size=600))
def test_codec_on_any_bytes(payload):
    try:
        CODEC.open(payload, NOW)
    except Refusal as r:
        assert r.code and r.reason
    assert CODEC.verified(payload) in (True, False)


@FAST
@given(st.dictionaries(st.sampled_from(["kind", "id", "seq", "site_id", "target_w", "import_limit_w", "export_limit_w",
                                        "duration_s", "start", "priority", "band_w", "center_w", "signal",
                                        "price_per_kwh", "interval_s", "extra"]), json_values, max_size=4))
def test_codec_on_signed_dispatch_with_any_field_values(changes):
    text = json.dumps(dispatch(changes))
    try:
        d = CODEC.open(envelope(text), NOW)
    except Refusal as r:
        assert r.code and r.reason
        return
    assert all_finite(d.body) and d.body["site_id"] == "s1"


@FAST
@given(json_values)
def test_codec_on_signed_msg_of_any_shape(value):
    try:
        text = json.dumps(value)
        CODEC.open(envelope(text), NOW)
    except Refusal as r:
        assert r.code in ("malformed", "schema", "too_large")


async def _body(raw: bytes, ctype: str) -> dict:
    req = make_mocked_request("POST", "/api/v1/x", headers={"Content-Type": ctype})
    req._read_bytes = raw               # the body as aiohttp holds it once read from the socket
    return await body_json(req, allowed={"mode", "reserve_pct", "username", "password"})


@FAST
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
       st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]))
def test_http_body_parser_on_any_body(raw, ctype):
    try:
        body = asyncio.run(_body(raw, ctype))
    except ApiError as exc:
        assert 400 <= exc.status < 500 and exc.message
        return
    assert isinstance(body, dict) and all_finite(body)


@FAST
@given(st.sampled_from(["mode", "reserve_pct", "other", ""]), st.binary(max_size=40))
def test_home_assistant_commands(name, payload):
    topics = Topics("hems/v1", "s1")
    try:
        kind, value = parse_command(topics, f"{topics.ha_command}/{name}", payload)
    except ValueError as exc:
        assert str(exc)
        return
    assert kind in ("mode", "reserve_pct")
    assert kind == "mode" or (math.isfinite(value) and 0 <= value <= 80)


@FAST
@given(st.sampled_from(sorted(TYPES - {"string"})), st.data(), st.booleans())
def test_modbus_register_decoding(type_name, data, sunspec):
    n = register_count(type_name)
    regs = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=n, max_size=n))
    value = decode(regs, type_name, data.draw(st.sampled_from(["big", "little"])), sunspec=sunspec)
    assert value is None or math.isfinite(value)
    sf = data.draw(st.none() | st.integers(-32768, 32767))
    out = scaled(value, sf)
    assert out is None or math.isfinite(out)


@FAST
@given(st.lists(st.integers(-5, 0x1FFFF), max_size=6), st.sampled_from(sorted(TYPES)))
def test_modbus_decoding_refuses_wrong_shapes(regs, type_name):
    try:
        value = decode(regs, type_name)
    except CodecError as exc:
        assert str(exc)
        return
    assert value is None or isinstance(value, (int, str)) or math.isfinite(value)


@FAST
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_bridge_frame_reader_on_any_stream(chunks):
    reader = P.FrameReader()
    for chunk in chunks:
        for version, msg_type, seq, payload in reader.feed(chunk):
            values = P.unpack(msg_type, payload)
            assert values is None or len(values) == len(P.MESSAGES[msg_type][2])
    assert reader.bad_frames >= 0
