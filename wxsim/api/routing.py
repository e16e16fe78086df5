"""A small router: (method, path) -> handler, with WeChat's token check and per-account faults."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wxsim import errors as e
from wxsim import quota
from wxsim.api import permissions
from wxsim.errors import WeChatError, fail
from wxsim.model import Account, Faults
from wxsim.world import World

_ESCAPED_NON_ASCII = re.compile(
    rb"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})"
)


@dataclass
class Request:
    world: World
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    account: Account | None = None
    remote_addr: str = ""
    _json: Any = field(default=None, repr=False)
    content_type: str = ""  # the request's Content-Type header (multipart uploads carry their boundary)
    body_too_large: bool = False  # over app.MAX_BODY_BYTES: the body was drained, not kept

    def json(self) -> dict[str, Any]:
        if self._json is None:
            if _ESCAPED_NON_ASCII.search(self.body):
                # WeChat refuses \\uXXXX escapes of non-ASCII text instead of decoding them.
                raise fail(e.INVALID_CHARSET)
            try:
                data = json.loads(self.body.decode("utf-8") or "{}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise fail(e.PARSE_ERROR) from None
            if not isinstance(data, dict):
                raise fail(e.PARSE_ERROR)
            self._json = data
        return self._json

    def need_account(self) -> Account:
        assert self.account is not None
        return self.account


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Any]


@dataclass(frozen=True)
class Route:
    handler: Handler
    token: bool  # needs ?access_token=
    faults: bool  # subject to the account's injected faults


ROUTES: dict[tuple[str, str], Route] = {}


def api(method: str, path: str, *, token: bool = True, faults: bool = True) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, path)] = Route(handler, token, faults)
        return handler

    return register


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def dispatch(request: Request) -> Response:
    route = ROUTES.get((request.method, request.path))
    if route is None:
        if any(path == request.path for _, path in ROUTES):
            return json_response({"errcode": 43001, "errmsg": "require GET/POST method"})
        return Response(404, b'{"errcode":404,"errmsg":"not found"}')
    try:
        if route.token:
            request.account = request.world.account_for_token(request.query.get("access_token"))
        if route.faults:
            injected = _inject_faults(request)
            if injected is not None:
                return injected
        if request.account is not None:
            permissions.check(request.account, request.path)
            with request.world.lock:
                quota.spend(request.account, request.path, request.world.clock.now())
        result = route.handler(request)
        if isinstance(result, Response):
            return result
        return json_response(result)
    except WeChatError as error:
        return json_response(error.as_json(), error.http_status)


def _inject_faults(request: Request) -> Response | None:
    account = request.account or request.world.accounts.get(
        request.query.get("appid") or _json_appid(request) or ""
    )
    if account is None:
        return None
    faults = account.faults
    if request.path == "/cgi-bin/stable_token" and faults.stable_token_missing:
        return Response(404, b'{"errcode":404,"errmsg":"not found"}')
    if faults.ip_allowlist and request.remote_addr not in faults.ip_allowlist:
        ip = request.remote_addr  # WeChat names the caller's address in the message
        message = f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist rid: wxsim"
        return json_response(WeChatError(e.IP_NOT_ALLOWED[0], message).as_json())
    scripted = _scripted_response(request.world, faults.script, request.path)
    if scripted is not None:
        return scripted
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)
    if request.path in faults.quota_exhausted:
        return json_response(fail(e.API_LIMIT).as_json())
    return _random_fault(request.world, faults)


def _random_fault(world: World, faults: Faults) -> Response | None:
    """One draw from the seeded RNG decides between a hang, a 503, a -1 and a normal answer."""
    roll = world.rng.random()
    if roll < faults.timeout_rate:
        time.sleep(faults.timeout_seconds)
        return Response(504, b"")
    roll -= faults.timeout_rate
    if roll < faults.http5xx_rate:
        return Response(503, b"<html>503 Service Unavailable</html>", "text/html")
    if roll - faults.http5xx_rate < faults.error_rate:
        return json_response(fail(e.BUSY).as_json())
    return None


def _scripted_response(world: World, script: list[dict[str, Any]], path: str) -> Response | None:
    """The next scripted answer for `path`, if any; a "sleep" entry hangs, then lets the call proceed."""
    with world.lock:
        entry = next((script.pop(i) for i, e in enumerate(script) if e.get("path") == path), None)
    if entry is None:
        return None
    if "sleep" in entry:
        time.sleep(float(entry["sleep"]))
        return None
    if "status" in entry:
        return Response(int(entry["status"]), b"<html>scripted failure</html>", "text/html")
    return json_response({"errcode": int(entry["errcode"]), "errmsg": "scripted by wxsim"})


def _json_appid(request: Request) -> str | None:
    try:
        value = json.loads(request.body or b"{}").get("appid")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
