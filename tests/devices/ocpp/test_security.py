"""OCPP security profiles 2 (TLS + basic auth) and 3 (TLS + client certificates) on loopback."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from tests.devices.ocpp.conftest import Rig, make_charger, make_server

pytestmark = pytest.mark.timeout(60)


def _cert(name: str, issuer_key, issuer_name, *, ca: bool = False, ip: str | None = None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_name or subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert


def _write(path, key, cert):
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path.with_suffix(".pem"), path.with_suffix(".key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = _cert("hems test CA", None, None, ca=True)
    files = {"ca": _write(d / "ca", ca_key, ca)}
    files["server"] = _write(d / "server", *_cert("hems", ca_key, ca.subject, ip="127.0.0.1"))
    files["cp1"] = _write(d / "cp1", *_cert("CP-1", ca_key, ca.subject))
    files["other"] = _write(d / "other", *_cert("CP-2", ca_key, ca.subject))
    return files


def client_ssl(pki, who: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki["ca"][0]))
    if who:
        ctx.load_cert_chain(str(pki[who][0]), str(pki[who][1]))
    return ctx


async def test_profile_3_needs_a_client_certificate_naming_the_charge_point(pki):
    server = make_server(security_profile=3, tls_cert_file=pki["server"][0], tls_key_file=pki["server"][1],
                         tls_ca_file=pki["ca"][0])
    charger = make_charger(server)
    await charger.connect()
    rig = Rig(server, charger)
    try:
        url = f"wss://127.0.0.1:{server.port}/ocpp/CP-1"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=["ocpp2.0.1"], ssl=client_ssl(pki, "other")):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises((ssl.SSLError, ConnectionError, InvalidHandshake)):
            async with connect(url, subprotocols=["ocpp2.0.1"], ssl=client_ssl(pki, None)) as ws:
                await ws.recv()                          # no client certificate: the TLS handshake fails
        assert charger.session is None
        st = await rig.station_for("2.0.1", start=False, ssl=client_ssl(pki, "cp1"))
        st.url = url
        await rig.start_station()
        await charger.write_power(5000.0)
        assert st.limit_w > 4000
    finally:
        if rig.station is not None:
            await rig.station.stop()
        await server.stop()


async def test_profile_2_is_basic_auth_over_tls(pki):
    server = make_server(security_profile=2, tls_cert_file=pki["server"][0], tls_key_file=pki["server"][1])
    charger = make_charger(server, password="a-long-ocpp-password")
    await charger.connect()
    rig = Rig(server, charger)
    try:
        url = f"wss://127.0.0.1:{server.port}/ocpp/CP-1"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=["ocpp1.6"], ssl=client_ssl(pki, None)):
                pass
        assert refused.value.response.status_code == 401
        with pytest.raises((InvalidHandshake, ConnectionError)):   # plain ws to a TLS server
            async with connect(url.replace("wss", "ws"), subprotocols=["ocpp1.6"], open_timeout=3):
                pass
        st = await rig.station_for("1.6", start=False, ssl=client_ssl(pki, None),
                                   password="a-long-ocpp-password")
        st.url = url
        await rig.start_station()
        assert charger.session is not None and charger.session.version == "1.6"
    finally:
        if rig.station is not None:
            await rig.station.stop()
        await server.stop()
