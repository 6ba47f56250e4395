"""The hems web API of a VM, as the owner's browser uses it: a session cookie, the CSRF header,
form uploads streamed from disk (update bundles are hundreds of MB)."""
from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

PASSWORD = "image test password 1"


class Guest:
    def __init__(self, host_port: int) -> None:
        self.base = f"http://127.0.0.1:{host_port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def call(self, method: str, path: str, body: Any = None, timeout_s: float = 120,
             data: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, **(headers or {})}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout_s) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:                 # a file (a backup), not JSON
            return status, raw

    def owner(self, first: bool) -> None:
        """Set up the admin (first boot) or log in (after a restart)."""
        path = "/api/v1/auth/setup" if first else "/api/v1/auth/login"
        status, body = self.call("POST", path, {"username": "admin", "password": PASSWORD})
        assert status in (200, 201), (status, body)
        self.csrf = body["csrf_token"]

    def upload(self, path: str, file: Path, timeout_s: float = 900, **fields: str) -> tuple[int, Any]:
        boundary = uuid.uuid4().hex
        head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items())
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file.name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def chunks() -> Iterator[bytes]:
            yield head
            with file.open("rb") as f:
                while chunk := f.read(1 << 20):
                    yield chunk
            yield tail

        size = len(head) + file.stat().st_size + len(tail)
        return self.call("POST", path, data=chunks(), timeout_s=timeout_s,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                  "Content-Length": str(size)})

    def wait_update(self, timeout_s: float) -> dict[str, Any]:
        """Poll the update state until the install finished (installed or failed)."""
        deadline = time.monotonic() + timeout_s
        body: Any = None
        while time.monotonic() < deadline:
            status, body = self.call("GET", "/api/v1/system/update")
            assert status == 200, (status, body)
            if body["state"] in ("installed", "failed"):
                return body
            time.sleep(2)
        raise AssertionError(f"the update did not finish in {timeout_s:.0f} s: {body}")
