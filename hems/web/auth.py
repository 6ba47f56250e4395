"""Who may do what: session cookies, CSRF tokens, the first-run admin, login, audit.

Access levels, set per handler with @access():
  public  anyone (the UI shell, health, login, first-run setup)
  read    the logged-in owner, or anyone on the LAN when the owner opted in to read-only views
  admin   the logged-in owner only; every change (non-GET) also needs the session's CSRF token
Unmarked API handlers are admin: the safe default.
"""
from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import secrets
from datetime import timedelta
from typing import Any, Awaitable, Callable

from aiohttp import web

from hems.web import keys
from hems.web.db import Session, WebDb
from hems.web.errors import ApiError
from hems.web.passwords import hash_password, password_problem, verify_password
from hems.web.ratelimit import LoginLimiter
from hems.web.sitetime import tz_name
from hems.web.validate import body_json, require_str

log = logging.getLogger(__name__)

COOKIE = "hems_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(days=30)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAN_READ_ONLY_KEY = "web.lan_read_only"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def access(level: str) -> Callable[[Handler], Handler]:
    if level not in ("public", "read", "admin"):
        raise ValueError(f"unknown access level {level!r}")

    def mark(handler: Handler) -> Handler:
        handler.hems_access = level  # type: ignore[attr-defined]
        return handler
    return mark


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remote_addr(request: web.Request) -> str:
    return request.remote or "unknown"


def is_lan(remote: str) -> bool:
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


LOCAL_SUFFIXES = (".local", ".lan", ".home", ".home.arpa", ".internal", ".localdomain")


def is_local_host(host: str | None) -> bool:
    """True for the names a home UI is reached by: an IP literal, localhost, a single-label name
    (`hems`) or a private suffix (`hems.local`). A public name is what a DNS-rebinding page uses to
    reach the Pi from a browser on the LAN, so the password setup and the login-free LAN view
    refuse it."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("["):                                  # [ipv6]:port
        name = name[1:name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":")[0]
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    name = name.rstrip(".")
    return name == "localhost" or "." not in name or name.endswith(LOCAL_SUFFIXES)


def current_session(request: web.Request) -> Session | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    return request.app[keys.DB].session(_token_hash(token), request.app[keys.CLOCK].now())


def _route_level(request: web.Request) -> str:
    route = request.match_info.route
    handler = getattr(route, "handler", None)
    level = getattr(handler, "hems_access", None)
    if level is None:
        return "admin" if request.path.startswith("/api/") else "public"
    return level


def _check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        expected = f"{request.scheme}://{request.host}"
        if origin != expected:
            raise ApiError(403, f"cross-site request refused: Origin {origin} is not {expected}")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    level = _route_level(request)
    request[keys.SESSION] = session = current_session(request) if request.path.startswith("/api/") else None
    request[keys.WHO] = session.user.username if session else f"anonymous@{remote_addr(request)}"
    unsafe = request.method not in SAFE_METHODS
    if unsafe:
        _check_origin(request)
    if level == "public":
        if unsafe and session is None and not is_local_host(request.host):
            raise ApiError(403, f"refused for host name {request.host!r}: open hems by its IP address or "
                                "a local name (hems.local)")
        return await handler(request)
    if session is None:
        if level == "read" and not unsafe and lan_view_allowed(request):
            return await handler(request)
        raise ApiError(401, "log in first: this needs the owner's session")
    if unsafe and not secrets.compare_digest(request.headers.get(CSRF_HEADER, ""), session.csrf_token):
        raise ApiError(403, f"missing or wrong {CSRF_HEADER} header (CSRF protection); reload the page")
    return await handler(request)


def lan_view_allowed(request: web.Request) -> bool:
    return lan_read_only(request.app) and is_lan(remote_addr(request)) and is_local_host(request.host)


def lan_read_only(app: web.Application) -> bool:
    """The owner's choice on the Settings page, else the config's [web] readonly_lan."""
    default = bool(getattr(getattr(app[keys.CONFIG], "web", None), "readonly_lan", False))
    return bool(app[keys.DB].get_setting(LAN_READ_ONLY_KEY, default))


def audit(request: web.Request, action: str, detail: dict[str, Any]) -> None:
    """Record who changed what and when (the audit log, shown on the Settings page)."""
    who = request.get(keys.WHO, "unknown")
    request.app[keys.DB].audit(request.app[keys.CLOCK].now(), who, action, detail, remote_addr(request))
    log.info("change by %s: %s %s", who, action, detail)


def _start_session(request: web.Request, user) -> dict[str, Any]:
    db: WebDb = request.app[keys.DB]
    now = request.app[keys.CLOCK].now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    db.add_session(_token_hash(token), user, csrf, now, now + SESSION_LIFETIME)
    db.purge_expired(now)
    request[keys.WHO] = user.username
    request[keys.NEW_COOKIE] = token
    return {"user": user.username, "role": user.role, "csrf_token": csrf}


def _set_cookie(request: web.Request, resp: web.Response) -> web.Response:
    resp.set_cookie(
        COOKIE, request[keys.NEW_COOKIE], max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
        httponly=True, samesite="Strict", secure=request.secure,
    )
    return resp


@access("public")
async def get_auth_status(request: web.Request) -> web.Response:
    session: Session | None = request[keys.SESSION]
    db: WebDb = request.app[keys.DB]
    lan_ok = lan_view_allowed(request)
    return web.json_response({
        "setup_required": db.user_count() == 0,
        "logged_in": session is not None,
        "user": session.user.username if session else None,
        "role": session.user.role if session else ("viewer" if lan_ok else None),
        "csrf_token": session.csrf_token if session else None,
        "read_only_view": session is None and lan_ok,
        "timezone": tz_name(request.app[keys.TZ]),
    })


def _username(body: dict[str, Any]) -> str:
    name = body.get("username", "admin")
    name = require_str(name, "username", max_len=64).strip()
    if not name or not all(c.isalnum() or c in "._-@" for c in name):
        raise ApiError(422, "username may use letters, digits and . _ - @ only", "username")
    return name


@access("public")
async def post_setup(request: web.Request) -> web.Response:
    """First run: set the admin password. Refused once any user exists."""
    db: WebDb = request.app[keys.DB]
    if db.user_count() > 0:
        raise ApiError(409, "the admin password is already set; log in instead")
    body = await body_json(request, allowed={"username", "password"})
    username = _username(body)
    problem = password_problem(body.get("password"))
    if problem:
        raise ApiError(422, problem, "password")
    hashed = await asyncio.to_thread(hash_password, body["password"])
    user = db.create_first_admin(username, hashed, request.app[keys.CLOCK].now())
    if user is None:
        raise ApiError(409, "the admin password is already set; log in instead")
    info = _start_session(request, user)
    audit(request, "setup", {"username": username})
    return _set_cookie(request, web.json_response(info, status=201))


@access("public")
async def post_login(request: web.Request) -> web.Response:
    db: WebDb = request.app[keys.DB]
    limiter: LoginLimiter = request.app[keys.LIMITER]
    now_s = request.app[keys.CLOCK].monotonic()
    body = await body_json(request, allowed={"username", "password"})
    username = _username(body)
    password = require_str(body.get("password"), "password", max_len=1000)
    limit_keys = [f"ip:{remote_addr(request)}", f"user:{username}"]
    wait_s = limiter.retry_after_s(limit_keys, now_s)
    if wait_s > 0:
        log.warning("login for %s from %s refused: too many failures", username, remote_addr(request))
        raise web.HTTPTooManyRequests(
            text=f"too many failed logins; try again in {int(wait_s) + 1} s",
            headers={"Retry-After": str(int(wait_s) + 1)},
        )
    found = db.user_by_name(username)
    ok = found is not None and await asyncio.to_thread(verify_password, password, found[1])
    if not ok:
        limiter.failed(limit_keys, now_s)
        log.warning("failed login for %s from %s", username, remote_addr(request))
        raise ApiError(401, "wrong user name or password")
    limiter.succeeded(limit_keys)
    info = _start_session(request, found[0])
    audit(request, "login", {})
    return _set_cookie(request, web.json_response(info))


@access("public")
async def post_logout(request: web.Request) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token and request[keys.SESSION] is not None:
        audit(request, "logout", {})
        request.app[keys.DB].drop_session(_token_hash(token))
    resp = web.json_response({"logged_in": False})
    resp.del_cookie(COOKIE, path="/")
    return resp


@access("admin")
async def post_password(request: web.Request) -> web.Response:
    """Change the password; every other session of the user is ended."""
    db: WebDb = request.app[keys.DB]
    session: Session = request[keys.SESSION]
    limiter: LoginLimiter = request.app[keys.LIMITER]
    now_s = request.app[keys.CLOCK].monotonic()
    body = await body_json(request, allowed={"current_password", "new_password"})
    current = require_str(body.get("current_password"), "current_password", max_len=1000)
    limit_keys = [f"user:{session.user.username}"]
    wait_s = limiter.retry_after_s(limit_keys, now_s)
    if wait_s > 0:
        raise web.HTTPTooManyRequests(text=f"too many wrong passwords; try again in {int(wait_s) + 1} s",
                                      headers={"Retry-After": str(int(wait_s) + 1)})
    found = db.user_by_name(session.user.username)
    if found is None or not await asyncio.to_thread(verify_password, current, found[1]):
        limiter.failed(limit_keys, now_s)
        raise ApiError(403, "current password is wrong", "current_password")
    problem = password_problem(body.get("new_password"))
    if problem:
        raise ApiError(422, problem.replace("password", "new_password", 1), "new_password")
    db.set_password_hash(session.user.id, await asyncio.to_thread(hash_password, body["new_password"]))
    db.drop_sessions_of(session.user.id, keep=_token_hash(request.cookies[COOKIE]))
    audit(request, "password_changed", {})
    return web.json_response({"changed": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/auth/status", get_auth_status)
    app.router.add_post("/api/v1/auth/setup", post_setup)
    app.router.add_post("/api/v1/auth/login", post_login)
    app.router.add_post("/api/v1/auth/logout", post_logout)
    app.router.add_post("/api/v1/auth/password", post_password)
