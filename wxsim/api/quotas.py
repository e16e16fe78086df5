"""Quota tooling: openapi/quota/get, clear_quota (with a token) and clear_quota/v2 (with the secret)."""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim import quota
from wxsim.api.routing import Request, api
from wxsim.errors import fail

OK = {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/openapi/quota/get")
def quota_get(request: Request) -> dict[str, Any]:
    account = request.need_account()
    path = str(request.json().get("cgi_path", ""))
    with request.world.lock:
        return {**OK, "quota": quota.usage(account, path, request.world.clock.now())}


@api("POST", "/cgi-bin/clear_quota")
def clear_quota(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if request.json().get("appid") != account.appid:
        raise fail(e.INVALID_APPID)
    with request.world.lock:
        quota.clear(account, request.world.clock.now())
    return OK


@api("POST", "/cgi-bin/clear_quota/v2", token=False)
def clear_quota_by_secret(request: Request) -> dict[str, Any]:
    """The way back when the token quota itself is spent: no access_token, the AppSecret instead."""
    body = request.json()
    account = request.world.accounts.get(str(body.get("appid", "")))
    if account is None:
        raise fail(e.INVALID_APPID)
    if body.get("appsecret") != account.secret:
        raise fail(e.INVALID_APPSECRET)
    with request.world.lock:
        quota.clear(account, request.world.clock.now())
    return OK
