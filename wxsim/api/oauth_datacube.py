"""OAuth for the account's own H5 pages (the datacube statistics are in wxsim/api/datacube.py)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from wxsim import errors as e
from wxsim.api.routing import Request, Response, api
from wxsim.errors import fail

CODE_SECONDS = 300


@api("GET", "/connect/oauth2/authorize", token=False, faults=False)
def authorize(request: Request) -> Response:
    """WeChat's consent page, minus the page: `wxsim_openid` names the simulated fan who is browsing."""
    q = request.query
    account = request.world.accounts.get(q.get("appid", ""))
    redirect = q.get("redirect_uri", "")
    if account is None or q.get("response_type") != "code" or not urlsplit(redirect).scheme:
        return Response(400, b"bad oauth request: appid, response_type=code and redirect_uri are required")
    openid = q.get("wxsim_openid", "")
    if openid not in account.fans:
        return Response(400, b"wxsim_openid must name a fan of this account")
    code = secrets.token_hex(16)
    account.oauth_codes[code] = {
        "openid": openid,
        "expires_at": request.world.clock.now() + CODE_SECONDS,
        "used": False,
        "scope": q.get("scope", "snsapi_base"),
    }
    separator = "&" if "?" in redirect else "?"
    location = f"{redirect}{separator}{urlencode({'code': code, 'state': q.get('state', '')})}"
    return Response(302, b"", "text/plain", [("Location", location)])


@api("GET", "/sns/oauth2/access_token", token=False)
def oauth_token(request: Request) -> dict[str, Any]:
    q = request.query
    account = request.world.accounts.get(q.get("appid", ""))
    if account is None:
        raise fail(e.INVALID_APPID)
    if q.get("secret") != account.secret:
        raise fail(e.INVALID_APPSECRET)
    if q.get("grant_type") != "authorization_code":
        raise fail(e.INVALID_GRANT_TYPE)
    grant = account.oauth_codes.get(q.get("code", ""))
    if grant is None or grant["expires_at"] < request.world.clock.now():
        raise fail(e.INVALID_CODE)
    if grant["used"]:
        raise fail(e.CODE_USED)
    grant["used"] = True
    return {
        "access_token": secrets.token_hex(32),
        "expires_in": 7200,
        "refresh_token": secrets.token_hex(32),
        "openid": grant["openid"],
        "scope": grant["scope"],
        "is_snapshotuser": 0,
    }
