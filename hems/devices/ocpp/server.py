"""The home's OCPP server (CSMS): one websocket server for every configured charge point.

Charge points connect to ws(s)://HOST:PORT/ocpp/{charge_point_id} with subprotocol ocpp2.1,
ocpp2.0.1 or ocpp1.6 (the newest both sides speak wins). At the handshake:
  - an id that no charger in config.toml has is refused (404) and listed in the status file,
    with a config snippet, so the installer can add it;
  - security profile 1 and 2: HTTP Basic auth, user = the charge point id, password from the
    charger's `password_file` (401 otherwise); 2 and 3 run over TLS; 3 wants a client
    certificate from `tls_ca_file` whose common name is the charge point id (403 otherwise);
  - a second connection for a connected id: with a password or certificate the new one wins
    (the old one is most likely half-open after a network drop); without, the new one is
    refused (409) while the old one still answers a ping.
Frames over `max_message_bytes` close the connection (1009), as websockets does by default.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import http
import json
import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from hems.devices.ocpp.csms16 import Csms16
from hems.devices.ocpp.csms2x import Csms21, Csms201
from hems.devices.ports import DeviceError
from hems.domain.clock import Clock, SystemClock

log = logging.getLogger("hems.devices.ocpp")

# websockets logs each connection at info level; hems logs connects and disconnects itself
logging.getLogger("hems.devices.ocpp.websocket").setLevel(logging.WARNING)

SUBPROTOCOLS = {"ocpp2.1": Csms21, "ocpp2.0.1": Csms201, "ocpp1.6": Csms16}
PATH_PREFIX = "/ocpp/"
STATUS_EVERY_S = 10.0
RELEASE_GRACE_S = 3.0


@dataclass(frozen=True)
class OcppSettings:
    """The [ocpp] table, as the server and the sessions use it."""
    bind: str = "0.0.0.0"
    port: int = 8887
    security_profile: int = 0                 # 0 none, 1 basic auth, 2 TLS + basic, 3 TLS + client cert
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None           # profile 3: the CA of the charge points' certificates
    heartbeat_interval_s: float = 60.0
    meter_interval_s: float = 10.0
    response_timeout_s: float = 10.0
    id_tokens: tuple[str, ...] = ()           # allow-list; empty = free charging
    remote_start: bool = True                 # start a transaction for a car that waits
    remote_id_token: str = "hems"
    max_message_bytes: int = 65536
    fallback_current_a: float = 6.0          # what a charger keeps if hems goes silent (0 = stop)
    status_file: Path | None = None

    def accepts(self, token: str) -> bool:
        return not self.id_tokens or token in self.id_tokens or token == self.remote_id_token


@dataclass
class OcppServer:
    settings: OcppSettings
    clock: Clock = field(default_factory=SystemClock)
    chargers: dict = field(default_factory=dict)          # charge point id -> OcppCharger
    refused: dict = field(default_factory=dict)           # unknown id -> (time, subprotocol)

    def __post_init__(self) -> None:
        self._server = None
        self._users: set = set()
        self._connections: dict = {}                      # id -> websocket connection
        self._start_lock = asyncio.Lock()
        self._status_task: asyncio.Task | None = None
        self._stop_later: asyncio.TimerHandle | None = None

    def add(self, charger) -> None:
        self.chargers[charger.charge_point_id] = charger

    # --- life cycle ---------------------------------------------------------------------
    async def acquire(self, user) -> None:
        """Start serving if not yet (the first charger's connect(), or its next read after a
        close(): a poller closes a device to reconnect it, which must not end the server)."""
        self._users.add(user)
        if self._stop_later is not None:
            self._stop_later.cancel()
            self._stop_later = None
        if self._server is not None:
            return
        async with self._start_lock:
            if self._server is None:
                await self._start()

    async def _start(self) -> None:
        s = self.settings
        try:
            tls = self._tls()
            self._server = await serve(
                self._handle, s.bind, s.port, subprotocols=list(SUBPROTOCOLS),
                process_request=self._check_request, ssl=tls,
                max_size=s.max_message_bytes, ping_interval=20, ping_timeout=20,
                logger=logging.getLogger("hems.devices.ocpp.websocket"))
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise DeviceError(f"OCPP server cannot listen on {s.bind}:{s.port}: {exc}") from None
        log.info("OCPP server on %s://%s:%d%s{id} for %s", "wss" if tls else "ws",
                 s.bind, self.port, PATH_PREFIX, ", ".join(sorted(self.chargers)) or "no charger")
        self.write_status()
        self._status_task = asyncio.create_task(self._status_loop(), name="ocpp-status")

    async def _status_loop(self) -> None:
        """Keep the status file's 'last message' times fresh for `hems ocpp status`."""
        while True:
            await asyncio.sleep(STATUS_EVERY_S)
            self.write_status()

    async def release(self, user) -> None:
        """The last charger closed: stop serving after a grace time, unless one reconnects."""
        self._users.discard(user)
        if not self._users and self._server is not None and self._stop_later is None:
            self._stop_later = asyncio.get_running_loop().call_later(
                RELEASE_GRACE_S, lambda: asyncio.ensure_future(self.stop()))

    async def stop(self) -> None:
        if self._stop_later is not None:
            self._stop_later.cancel()
            self._stop_later = None
        server, self._server = self._server, None
        task, self._status_task = self._status_task, None
        if task is not None:
            task.cancel()
        if server is not None:
            server.close()
            await server.wait_closed()

    @property
    def port(self) -> int:
        if self._server is None:
            return self.settings.port
        return self._server.sockets[0].getsockname()[1]

    def _tls(self) -> ssl.SSLContext | None:
        s = self.settings
        if s.security_profile < 2:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(s.tls_cert_file), str(s.tls_key_file))
        if s.security_profile == 3:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(str(s.tls_ca_file))
        return ctx

    # --- handshake ----------------------------------------------------------------------
    async def _check_request(self, connection, request):
        path = request.path.split("?")[0]
        if not path.startswith(PATH_PREFIX) or "/" in path[len(PATH_PREFIX):] or len(path) == len(PATH_PREFIX):
            return connection.respond(http.HTTPStatus.NOT_FOUND, "use /ocpp/{charge point id}\n")
        cp_id = path[len(PATH_PREFIX):]
        charger = self.chargers.get(cp_id)
        if charger is None:
            if cp_id not in self.refused:
                log.warning("OCPP: unknown charge point %r refused; add it to config.toml "
                            "(`hems ocpp status` prints the snippet)", cp_id[:64])
            if len(self.refused) < 32:
                self.refused[cp_id[:64]] = {"at": self.clock.now().isoformat(),
                                            "protocols": request.headers.get("Sec-WebSocket-Protocol")}
                self.write_status()
            return connection.respond(http.HTTPStatus.NOT_FOUND, "unknown charge point\n")
        problem = self._auth_problem(connection, request, charger)
        if problem is not None:
            status, why = problem
            charger.session_once(f"auth:{why}", "connection refused: %s", why)
            return connection.respond(status, why + "\n")
        old = self._connections.get(cp_id)
        if old is not None and self.settings.security_profile == 0 and await _alive(old):
            charger.session_once("duplicate", "second connection refused while the first answers")
            return connection.respond(http.HTTPStatus.CONFLICT, "charge point already connected\n")
        return None

    def _auth_problem(self, connection, request, charger):
        level = self.settings.security_profile
        if level in (1, 2):
            if not _basic_ok(request.headers.get("Authorization"), charger.charge_point_id, charger.password):
                return http.HTTPStatus.UNAUTHORIZED, "HTTP Basic auth failed"
        if level == 3:
            ssl_object = connection.transport.get_extra_info("ssl_object")
            cert = ssl_object.getpeercert() if ssl_object is not None else None
            names = [v for rdn in (cert or {}).get("subject", ()) for k, v in rdn if k == "commonName"]
            if charger.charge_point_id not in names:
                return http.HTTPStatus.FORBIDDEN, "client certificate does not name this charge point"
        return None

    # --- connections --------------------------------------------------------------------
    async def _handle(self, connection) -> None:
        cp_id = connection.request.path.split("?")[0][len(PATH_PREFIX):]
        charger = self.chargers[cp_id]
        cls = SUBPROTOCOLS.get(connection.subprotocol or "")
        if cls is None:
            await connection.close(1002, "no OCPP subprotocol")
            return
        old = self._connections.get(cp_id)
        if old is not None:
            log.info("OCPP %s: new connection replaces the old one", cp_id)
            await old.close(1000, "replaced by a new connection")
        session = cls(cp_id, connection, charger, self.settings, self.clock)
        self._connections[cp_id] = connection
        charger.attach(session)
        log.info("OCPP %s connected (%s)", cp_id, session.version)
        self.write_status()
        try:
            await session.start()
        except ConnectionClosed as exc:
            log.info("OCPP %s disconnected (%s)", cp_id, exc.rcvd.code if exc.rcvd else "no close frame")
        finally:
            if self._connections.get(cp_id) is connection:
                del self._connections[cp_id]
            charger.detach(session)
            for task in list(getattr(session, "_tasks", ())):
                task.cancel()
            self.write_status()

    # --- status -------------------------------------------------------------------------
    def status(self) -> dict:
        return {"at": self.clock.now().isoformat(), "port": self.port,
                "tls": self.settings.security_profile >= 2,
                "chargers": [c.status() for c in self.chargers.values()],
                "refused": self.refused}

    def write_status(self) -> None:
        path = self.settings.status_file
        if path is None:
            return
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.status(), indent=1))
            tmp.replace(path)
        except OSError as exc:
            log.debug("OCPP status file %s: %s", path, exc)


def _basic_ok(header: str | None, user: str, password: str | None) -> bool:
    if not header or not header.startswith("Basic ") or password is None:
        return False
    try:
        given = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = f"{user}:{password}".encode()
    return hmac.compare_digest(given, expected)


async def _alive(connection) -> bool:
    try:
        pong = await connection.ping()
        await asyncio.wait_for(pong, 2.0)
        return True
    except (asyncio.TimeoutError, ConnectionClosed, RuntimeError):
        return False
