"""Finding 3 and 4: non-finite numbers, deep nesting and lone surrogates are refused cleanly by
every JSON parser (MQTT dispatch, HTTP bodies), and the safety clamp maps any non-finite request
to 0 W."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from hems.aggregator.auth import HmacKey
from hems.aggregator.messages import Codec, Refusal, format_time
from hems.control.safety import SafetyLimits, clamp
from hems.domain import ChargerReading, ChargerState, MeterReading, SiteState
from hems.domain import strictjson

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
KEY = HmacKey(b"k" * 32)


def signed(text: str) -> bytes:
    """An envelope around msg text exactly as given (json.dumps would refuse NaN itself)."""
    return json.dumps({"v": 1, "alg": KEY.alg, "msg": text, "sig": KEY.sign(text.encode("utf-8"))}).encode()


def event(**kw) -> dict:
    m = {"v": 1, "kind": "event", "id": "e-1", "site_id": "s1", "seq": 7,
         "issued_at": format_time(NOW), "expires_at": format_time(NOW + timedelta(minutes=5)),
         "start": format_time(NOW), "duration_s": 900, "target_w": -3000}
    m.update(kw)
    return m


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("field", ["target_w", "import_limit_w"])
def test_signed_dispatch_with_non_finite_number_is_refused(value, field):
    doc = event()
    if field != "target_w":
        doc.pop("target_w")
    text = json.dumps(doc).replace("}", f', "{field}": {value}}}') if field != "target_w" else \
        json.dumps(doc).replace("-3000", value)
    with pytest.raises(Refusal) as e:
        Codec("s1", KEY, KEY).open(signed(text), NOW)
    assert e.value.code == "malformed"
    assert "non-finite" in e.value.reason or "not finite" in e.value.reason


def test_signed_price_curve_and_regulation_signal_with_nan_are_refused():
    prices = event(kind="prices", interval_s=900, price_per_kwh=[0.1, 0.2])
    for k in ("duration_s", "target_w"):
        prices.pop(k)
    text = json.dumps(prices).replace("0.2", "NaN")
    with pytest.raises(Refusal):
        Codec("s1", KEY, KEY).open(signed(text), NOW)
    signal = event(kind="regulation_signal", regulation_id="r-1", signal=0.5,
                   expires_at=format_time(NOW + timedelta(seconds=10)))
    for k in ("start", "duration_s", "target_w"):
        signal.pop(k)
    with pytest.raises(Refusal):
        Codec("s1", KEY, KEY).open(signed(json.dumps(signal).replace("0.5", "NaN")), NOW)


@pytest.mark.parametrize("payload", [
    b"[" * 5000 + b"]" * 5000,                                     # RecursionError in json.loads
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":' + b'{"a":' * 900 + b"1" + b"}" * 901,
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":"\\ud800"}',      # lone surrogate
    b'{"v":1,"alg":"hmac-sha256","sig":"x","msg":"ok","\\udfff":1}',
])
def test_unsigned_hostile_payloads_are_refused_before_anything_raises(payload):
    with pytest.raises(Refusal) as e:
        Codec("s1", KEY, KEY, max_payload_bytes=64 * 1024).open(payload, NOW)
    assert e.value.code in ("malformed", "too_large")


def test_signed_msg_with_deep_nesting_or_surrogate_is_refused_as_malformed():
    deep = '{"a":' * 500 + "1" + "}" * 500
    for text in (deep, '{"id": "\\ud800"}'):
        with pytest.raises(Refusal) as e:
            Codec("s1", KEY, KEY, max_payload_bytes=64 * 1024).open(signed(text), NOW)
        assert e.value.code == "malformed"


def test_strictjson_names_the_problem():
    for text, words in (("NaN", "non-finite"), ("[1e400]", "not finite"), ("[" * 100 + "]" * 100, "deeply"),
                        ('"\\udc00"', "surrogate"), ("{", "not valid JSON")):
        with pytest.raises(strictjson.StrictJsonError, match=words):
            strictjson.loads(text)
    with pytest.raises(strictjson.StrictJsonError, match="UTF-8"):
        strictjson.loads(b"\xff")
    assert strictjson.loads('{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "\u00e9"]}


LIMITS = SafetyLimits(phases=1, voltage_v=230, main_fuse_a=40, max_import_w=9000, max_export_w=9000,
                      min_charge_w=1400, max_charge_w=7400, min_discharge_w=1400, max_discharge_w=7400,
                      reserve_pct=20)


@pytest.mark.parametrize("request_w", [math.nan, math.inf, -math.inf])
def test_clamp_maps_non_finite_requests_to_zero(request_w):
    state = SiteState(at=NOW, meter=MeterReading(at=NOW, grid_power_w=500.0), pv=None,
                      charger=ChargerReading(at=NOW, ev_power_w=0.0, state=ChargerState.CONNECTED,
                                             soc_pct=60.0))
    sp = clamp(request_w, state, LIMITS, "test")
    assert sp.ev_power_w == 0.0
    assert "non_finite" in sp.clamped_by
