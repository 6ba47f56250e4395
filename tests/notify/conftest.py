"""Local stand-ins for the owner's servers, each speaking the real protocol on 127.0.0.1:
an SMTP server (aiosmtpd), an ntfy-format HTTP server, a webhook receiver, a real mosquitto."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import free_port


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):      # noqa: N802 (aiosmtpd's hook name)
        self.box.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port; plain, with optional AUTH PLAIN/LOGIN."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    box = Mailbox("127.0.0.1", free_port())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"hems" and auth_data.password == b"s3cret-mail"
        box.logins.append((auth_data.login.decode(), "ok" if ok else "refused"))
        return AuthResult(success=ok, handled=False)

    controller = Controller(_Handler(box), hostname=box.host, port=box.port, authenticator=authenticator,
                            auth_require_tls=False, auth_exclude_mechanism=["CRAM-MD5", "LOGIN"])
    controller.start()
    yield box
    controller.stop()


@dataclass
class HttpSink:
    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)     # set on each request

    async def next(self, timeout_s: float = 10.0) -> dict:
        """Wait for the next request and return it."""
        await asyncio.wait_for(self.arrived.wait(), timeout_s)
        self.arrived.clear()
        return self.requests[-1]


@pytest.fixture
async def ntfy_server():
    """An HTTP server answering like ntfy's JSON publish endpoint (POST / with {"topic", ...})."""
    sink = HttpSink("")

    async def publish(request: web.Request) -> web.Response:
        body = await request.json()
        sink.requests.append({"path": request.path, "auth": request.headers.get("Authorization"), "json": body})
        sink.arrived.set()
        if sink.status != 200:
            return web.json_response({"code": 40101, "http": sink.status, "error": "unauthorized"}, status=sink.status)
        if not body.get("topic"):
            return web.json_response({"code": 40002, "http": 400, "error": "invalid request: topic missing"}, status=400)
        return web.json_response({"id": "hbS4VyDqgJ0s", "time": 1765000000, "event": "message",
                                  "topic": body["topic"], "title": body.get("title"), "message": body.get("message")})

    app = web.Application()
    app.router.add_post("/", publish)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    sink.url = f"http://127.0.0.1:{server.port}"
    yield sink
    await server.close()


@pytest.fixture
async def webhook_server():
    sink = HttpSink("")

    async def hook(request: web.Request) -> web.Response:
        sink.requests.append({"path": request.path, "json": await request.json()})
        sink.arrived.set()
        return web.Response(status=sink.status)

    app = web.Application()
    app.router.add_post("/hooks/hems", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    sink.url = f"http://127.0.0.1:{server.port}/hooks/hems"
    yield sink
    await server.close()


@pytest.fixture
async def mosquitto(tmp_path):
    """A real mosquitto with anonymous access on a free loopback port: (host, port)."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(timeout=5)
