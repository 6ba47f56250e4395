"""A local mosquitto on 127.0.0.1 with TLS certificates made on the spot (CA, server, clients).

For `make demo`, the benchmarks and the tests: mutual TLS, persistence (sessions survive a
restart), log to a file. Not for production: there, the aggregator runs its own broker.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def available() -> bool:
    """Is mosquitto installed (Debian package mosquitto)?"""
    return os.path.exists(MOSQUITTO)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _alt_names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    """Subject alternative names: an IP address as such, anything else as a DNS name."""
    alt: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    return alt


@dataclass(frozen=True)
class Pki:
    dir: Path
    ca: Path

    def pair(self, name: str) -> tuple[Path, Path]:
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"


def make_pki(directory: Path, clients: tuple[str, ...] = ("site", "aggregator"),
             server_names: tuple[str, ...] = ()) -> Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost and one client certificate per name.
    server_names: more names the server certificate is valid for (IP addresses or DNS names),
    e.g. the address a VM reaches the broker at."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("hems test CA")).issuer_name(_name("hems test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(name: str, server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2)))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName(_alt_names(("127.0.0.1", "localhost") + server_names)),
                                critical=False)
        cert = b.sign(ca_key, hashes.SHA256())
        (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(directory / f"{name}.key", key)

    leaf("server", True)
    for c in clients:
        leaf(c, False)
    return Pki(directory, directory / "ca.pem")


class Broker:
    """mosquitto with mutual TLS, persistence (sessions survive a restart) and log to stdout."""

    def __init__(self, directory: Path, port: int, pki: Pki,
                 passwords: dict[str, str] | None = None) -> None:
        """passwords: user name -> password; then clients log in over TLS without a certificate."""
        self.dir, self.port, self.pki = directory, port, pki
        self.proc: subprocess.Popen | None = None
        self.log_path = directory / "mosquitto.log"
        (directory / "data").mkdir(parents=True, exist_ok=True)
        user = "user root\n" if os.geteuid() == 0 else ""
        if passwords:
            pw_file = directory / "passwords"
            pw_file.write_text("")
            for name, password in passwords.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pw_file), name, password], check=True,
                               capture_output=True)
            auth = f"require_certificate false\npassword_file {pw_file}\nallow_anonymous false\n"
        else:
            auth = "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n"
        (directory / "mosquitto.conf").write_text(
            f"{user}per_listener_settings false\n"
            f"listener {port} 127.0.0.1\n"
            f"cafile {pki.ca}\ncertfile {pki.dir / 'server.pem'}\nkeyfile {pki.dir / 'server.key'}\n"
            + auth +
            f"persistence true\npersistence_location {directory / 'data'}/\nautosave_interval 1\n"
            "log_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "max_packet_size 1048576\nset_tcp_nodelay true\n")

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client_tls(self, name: str = "aggregator") -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca))
        cert, key = self.pki.pair(name)
        ctx.load_cert_chain(str(cert), str(key))
        return ctx
