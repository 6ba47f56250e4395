"""Bad input at hems' OCPP server: answered per the protocol, logged once, never a crash."""
from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hems.devices.ports import DeviceError
from tests.devices.ocpp.conftest import make_charger, make_server

pytestmark = pytest.mark.timeout(60)

BOOT_16 = [2, "b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
BOOT_2X = [2, "b1", "BootNotification", {"chargingStation": {"vendorName": "V", "model": "M"},
                                         "reason": "PowerUp"}]


@pytest.fixture
async def server():
    server = make_server(max_message_bytes=8192)
    charger = make_charger(server, password=None)
    await charger.connect()
    yield server
    await charger.close()


async def exchange(ws, frame) -> list:
    """Send a frame, return the answer to it (skipping the server's own requests)."""
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg[0] in (3, 4):
            return msg


def url(server, cp_id="CP-1") -> str:
    return f"ws://127.0.0.1:{server.port}/ocpp/{cp_id}"


@pytest.mark.parametrize("proto,code", [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "FormatViolation"),
                                        ("ocpp2.1", "FormatViolation")])
async def test_malformed_frames_get_a_callerror(server, proto, code, caplog):
    async with connect(url(server), subprotocols=[proto]) as ws:
        for _ in range(3):                                   # logged once, answered each time
            answer = await exchange(ws, "{not json")
            assert answer[0] == 4 and answer[1] == "-1" and answer[2] == code
        answer = await exchange(ws, json.dumps({"an": "object"}))
        assert answer[0] == 4 and answer[1] == "-1"
        answer = await exchange(ws, json.dumps([9, "x1", "Heartbeat", {}]))   # no such message type
        assert answer[0] == 4 and answer[2] in ("PropertyConstraintViolation", "RpcFrameworkError",
                                                "ProtocolError")
        boot = BOOT_16 if proto == "ocpp1.6" else BOOT_2X
        assert (await exchange(ws, boot))[0] == 3                # the connection still works
    frames = [r for r in caplog.records if "unreadable frame" in r.getMessage()]
    assert len([r for r in frames if r.levelno == logging.WARNING]) == 1


@pytest.mark.parametrize("proto", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
async def test_unknown_and_unhandled_actions(server, proto):
    async with connect(url(server), subprotocols=[proto]) as ws:
        answer = await exchange(ws, [2, "u1", "MakeCoffee", {}])
        assert answer[:3] == [4, "u1", "NotSupported"]
        known_unhandled = "SignCertificate" if proto != "ocpp1.6" else "SecurityEventNotification"
        answer = await exchange(ws, [2, "u2", known_unhandled, {"csr": "x"}])
        assert answer[0] == 4 and answer[1] == "u2" and answer[2] in ("NotImplemented", "NotSupported")


@pytest.mark.parametrize("proto,boot", [("ocpp1.6", BOOT_16), ("ocpp2.0.1", BOOT_2X), ("ocpp2.1", BOOT_2X)])
async def test_schema_violations_are_refused(server, proto, boot):
    async with connect(url(server), subprotocols=[proto]) as ws:
        bad = [2, "s1", "BootNotification", {"unexpected": 1}]
        answer = await exchange(ws, bad)
        assert answer[0] == 4 and answer[1] == "s1"
        assert answer[2] in ("FormatViolation", "FormationViolation", "ProtocolError",
                             "OccurrenceConstraintViolation", "OccurenceConstraintViolation")
        wrong_type = json.loads(json.dumps(boot))
        wrong_type[1] = "s2"
        if proto == "ocpp1.6":
            wrong_type[3]["chargePointModel"] = 42
        else:
            wrong_type[3]["chargingStation"]["model"] = 42
        answer = await exchange(ws, wrong_type)
        assert answer[0] == 4 and answer[2] == "TypeConstraintViolation"


@pytest.mark.parametrize("proto", ["ocpp1.6", "ocpp2.0.1"])
async def test_non_finite_meter_values_never_reach_the_reading(server, proto):
    charger = server.chargers["CP-1"]
    async with connect(url(server), subprotocols=[proto]) as ws:
        if proto == "ocpp1.6":
            frame = [2, "m1", "MeterValues", {"connectorId": 1, "meterValue": [{
                "timestamp": "2026-01-01T00:00:00Z",
                "sampledValue": [{"value": "NaN", "measurand": "Power.Active.Import", "unit": "W"}]}]}]
        else:
            frame = ('[2,"m1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z",'
                     '"sampledValue":[{"value":Infinity,"measurand":"Power.Active.Import"}]}]}]')
        answer = await exchange(ws, frame)
        assert answer[:3] == [4, "m1", "PropertyConstraintViolation"]
    assert charger.point.measured.import_w is None


async def test_a_huge_message_closes_the_connection(server):
    async with connect(url(server), subprotocols=["ocpp2.0.1"], max_size=None) as ws:
        await ws.send(json.dumps([2, "h1", "DataTransfer", {"vendorId": "x", "data": "a" * 20000}]))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1009
    async with connect(url(server), subprotocols=["ocpp2.0.1"]) as ws:   # the server is fine
        assert (await exchange(ws, BOOT_2X))[0] == 3


async def test_unknown_ids_and_paths_are_refused_at_the_handshake(server):
    for path in ("/ocpp/NOBODY", "/elsewhere/CP-1", "/ocpp/", "/ocpp/a/b"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{server.port}{path}", subprotocols=["ocpp1.6"]):
                pass
        assert refused.value.response.status_code == 404
    assert "NOBODY" in server.status()["refused"]


async def test_no_common_subprotocol_is_refused(server):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(server), subprotocols=["ocpp1.5"]):
            pass
    assert refused.value.response.status_code == 400


async def test_a_second_connection_is_refused_while_the_first_answers(server):
    async with connect(url(server), subprotocols=["ocpp1.6"]) as first:
        assert (await exchange(first, BOOT_16))[0] == 3
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url(server), subprotocols=["ocpp1.6"]):
                pass
        assert refused.value.response.status_code == 409
        assert (await exchange(first, [2, "h2", "Heartbeat", {}]))[0] == 3


async def test_basic_auth_and_the_new_connection_wins_with_a_password():
    server = make_server(security_profile=1)
    charger = make_charger(server, password="s3cret-password-16")
    await charger.connect()
    try:
        def auth(pw):
            return {"Authorization": "Basic " + base64.b64encode(f"CP-1:{pw}".encode()).decode()}
        for headers in ({}, auth("wrong"), {"Authorization": "Basic !!!"}):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url(server), subprotocols=["ocpp2.0.1"], additional_headers=headers):
                    pass
            assert refused.value.response.status_code == 401
        good = auth("s3cret-password-16")
        async with connect(url(server), subprotocols=["ocpp2.0.1"], additional_headers=good) as first:
            assert (await exchange(first, BOOT_2X))[0] == 3
            async with connect(url(server), subprotocols=["ocpp2.0.1"], additional_headers=good) as second:
                with pytest.raises(ConnectionClosed):
                    while True:                          # the server's own requests, then the close
                        await asyncio.wait_for(first.recv(), 5)
                assert (await exchange(second, BOOT_2X))[0] == 3
                assert charger.session is not None
    finally:
        await charger.close()


async def test_a_disconnect_mid_transaction_leaves_no_stale_power(server):
    charger = server.chargers["CP-1"]
    async with connect(url(server), subprotocols=["ocpp1.6"]) as ws:
        await exchange(ws, BOOT_16)
        await exchange(ws, [2, "s1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                              "status": "Charging"}])
        await exchange(ws, [2, "m1", "MeterValues", {"connectorId": 1, "meterValue": [{
            "timestamp": "2026-01-01T00:00:00Z",
            "sampledValue": [{"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]}])
        assert (await charger.read()).ev_power_w == 7000.0
    await asyncio.wait_for(charger.detached.wait(), 5)
    from hems.devices.ports import DeviceError
    with pytest.raises(DeviceError, match="not connected"):
        await charger.read()


async def answer_next_call(ws, reply) -> list:
    """Wait for the server's next CALL of `action` and answer it with reply(call)."""
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg[0] == 2 and msg[2] == "SetChargingProfile":
            frame = reply(msg)
            if frame is not None:
                await ws.send(json.dumps(frame))
            return msg


@pytest.mark.parametrize("reply,match", [
    (lambda m: [4, m[1], "NotSupported", "no smart charging here", {}], "answered NotSupported"),
    (lambda m: [3, m[1], {"status": "Sideways"}], "SetChargingProfile"),      # schema-invalid answer
    (lambda m: None, "no answer to SetChargingProfile within 1 s"),
])
async def test_a_charger_that_errs_or_stays_silent_is_a_device_error(reply, match):
    server = make_server(response_timeout_s=1.0)
    charger = make_charger(server)
    await charger.connect()
    try:
        async with connect(url(server), subprotocols=["ocpp2.0.1"]) as ws:
            await exchange(ws, [2, "s1", "StatusNotification", {
                "timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}])
            write = asyncio.ensure_future(charger.write_power(5000.0))
            await answer_next_call(ws, reply)
            with pytest.raises(DeviceError, match=match):
                await write
            assert charger.last_setpoint_w is None
    finally:
        await server.stop()


@pytest.mark.parametrize("proto", ["ocpp1.6", "ocpp2.0.1"])
async def test_only_allowed_id_tokens_may_charge(proto):
    server = make_server(id_tokens=("04A1B2C3",))
    charger = make_charger(server)
    await charger.connect()
    try:
        async with connect(url(server), subprotocols=[proto]) as ws:
            for token, status in (("04A1B2C3", "Accepted"), ("DEADBEEF", "Invalid"), ("hems", "Accepted")):
                if proto == "ocpp1.6":
                    answer = await exchange(ws, [2, "a-" + token, "Authorize", {"idTag": token}])
                    assert answer[2]["idTagInfo"]["status"] == status
                else:
                    answer = await exchange(ws, [2, "a-" + token, "Authorize",
                                                 {"idToken": {"idToken": token, "type": "ISO14443"}}])
                    assert answer[2]["idTokenInfo"]["status"] == status
    finally:
        await server.stop()


async def test_a_fault_of_the_whole_16_charge_point_is_a_fault(server):
    charger = server.chargers["CP-1"]
    async with connect(url(server), subprotocols=["ocpp1.6"]) as ws:
        await exchange(ws, BOOT_16)
        await exchange(ws, [2, "s1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                              "status": "Preparing"}])
        await exchange(ws, [2, "m1", "MeterValues", {"connectorId": 1, "meterValue": [{
            "timestamp": "2026-01-01T00:00:00Z",
            "sampledValue": [{"value": "0", "measurand": "Power.Active.Import", "unit": "W"}]}]}])
        assert (await charger.read()).plugged
        await exchange(ws, [2, "s2", "StatusNotification", {"connectorId": 0, "errorCode": "GroundFailure",
                                                              "status": "Faulted"}])
        reading = await charger.read()
        assert reading.fault and "GroundFailure" in reading.fault and not reading.plugged


async def test_a_port_in_use_is_a_clear_device_error():
    first = make_server()
    charger = make_charger(first)
    await charger.connect()
    try:
        second = make_server(port=first.port)
        other = make_charger(second)
        with pytest.raises(DeviceError, match=f"OCPP server cannot listen on 127.0.0.1:{first.port}"):
            await other.connect()
        with pytest.raises(DeviceError, match="cannot listen"):
            await other.read()
    finally:
        await first.stop()


def _mutations(seed: int, n: int) -> list[str]:
    """Valid frames with one part replaced by something of the wrong kind, and raw junk."""
    import random
    rng = random.Random(seed)
    junk = [None, True, -1, 1e308, "", "x" * 300, [], {}, [[[]]], {"a": {"b": None}}, "NaN", 2**70]
    valid = [BOOT_2X, [2, "h", "Heartbeat", {}],
             [2, "s", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Occupied",
                                             "evseId": 1, "connectorId": 1}],
             [2, "m", "MeterValues", {"evseId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z",
                                                                  "sampledValue": [{"value": 5}]}]}]]
    out = []
    for i in range(n):
        frame = json.loads(json.dumps(rng.choice(valid)))
        frame[1] = f"f{i}"
        kind = rng.randrange(4)
        if kind == 0:
            frame[rng.randrange(len(frame))] = rng.choice(junk)
        elif kind == 1 and frame[3]:
            frame[3][rng.choice(list(frame[3]))] = rng.choice(junk)
        elif kind == 2:
            text = json.dumps(frame)
            cut = rng.randrange(len(text))
            out.append(text[:cut] + rng.choice(["", "}", "]", "\x00", "\\u12"]))
            continue
        out.append(json.dumps(frame))
    return out


async def test_random_garbage_never_breaks_the_server(server, caplog):
    async with connect(url(server), subprotocols=["ocpp2.0.1"]) as ws:
        for frame in _mutations(7, 300):
            await ws.send(frame)
        answer = await exchange(ws, [2, "alive", "Heartbeat", {}])
        while answer[1] != "alive":                       # answers to the garbage come first
            answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer[0] == 3 and "currentTime" in answer[2]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) < 30                              # once per kind of problem, not per frame
    assert not [r for r in caplog.records if r.exc_info]   # no tracebacks
