"""/cgi-bin/token and /cgi-bin/stable_token."""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim import quota
from wxsim.api.routing import Request, api
from wxsim.errors import fail
from wxsim.model import Account


def _credentials(request: Request, appid: str | None, secret: str | None, grant_type: str | None) -> Account:
    if grant_type != "client_credential":
        raise fail(e.INVALID_GRANT_TYPE)
    account = request.world.accounts.get(appid or "")
    if account is None:
        raise fail(e.INVALID_APPID)
    if secret != account.secret:
        raise fail(e.INVALID_APPSECRET)
    return account


@api("GET", "/cgi-bin/token", token=False)
def token(request: Request) -> dict[str, Any]:
    q = request.query
    account = _credentials(request, q.get("appid"), q.get("secret"), q.get("grant_type"))
    with request.world.lock:
        quota.spend(account, request.path, request.world.clock.now())
    issued = request.world.issue_token(account, stable=False)
    return {"access_token": issued.value, "expires_in": int(issued.expires_at - issued.issued_at)}


@api("POST", "/cgi-bin/stable_token", token=False)
def stable_token(request: Request) -> dict[str, Any]:
    body = request.json()
    account = _credentials(request, body.get("appid"), body.get("secret"), body.get("grant_type"))
    with request.world.lock:
        quota.spend(account, request.path, request.world.clock.now())
    issued = request.world.issue_token(account, stable=True, force=bool(body.get("force_refresh")))
    return {"access_token": issued.value, "expires_in": int(issued.expires_at - request.world.clock.now())}
