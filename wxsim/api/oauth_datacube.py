"""OAuth for the account's own H5 pages, and the datacube user statistics computed from ground truth."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from wxsim import errors as e
from wxsim.api.routing import Request, Response, api
from wxsim.errors import fail

CODE_SECONDS = 300
DATACUBE_SPAN_DAYS = 7
CHINA = timedelta(hours=8)


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


def _dates(request: Request) -> list[date]:
    body = request.json()
    try:
        begin = date.fromisoformat(str(body.get("begin_date")))
        end = date.fromisoformat(str(body.get("end_date")))
    except ValueError:
        raise fail(e.INVALID_DATE_RANGE) from None
    yesterday = (datetime.fromtimestamp(request.world.clock.now(), UTC) + CHINA).date() - timedelta(days=1)
    if end < begin or end > yesterday or (end - begin).days >= DATACUBE_SPAN_DAYS:
        raise fail(e.INVALID_DATE_RANGE)
    return [begin + timedelta(days=i) for i in range((end - begin).days + 1)]


def _china_day(ts: float) -> date:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).date()


@api("POST", "/datacube/getusersummary")
def user_summary(request: Request) -> dict[str, Any]:
    account = request.need_account()
    days = _dates(request)
    news: Counter[tuple[date, int]] = Counter()
    cancels: Counter[tuple[date, int]] = Counter()
    source_of: dict[str, int] = {}
    with request.world.lock:
        for t in request.world.truth:
            if t["appid"] != account.appid:
                continue
            day = _china_day(t["time"])
            if t["event"] == "follow":
                source_of[t["openid"]] = t["user_source"]
                news[(day, t["user_source"])] += 1
            else:
                cancels[(day, source_of.get(t["openid"], 0))] += 1
    items = [
        {
            "ref_date": d.isoformat(),
            "user_source": source,
            "new_user": news[(d, source)],
            "cancel_user": cancels[(d, source)],
        }
        for d in days
        for source in sorted({s for (day, s) in list(news) + list(cancels) if day == d})
    ]
    return {"list": items}


@api("POST", "/datacube/getusercumulate")
def user_cumulate(request: Request) -> dict[str, Any]:
    account = request.need_account()
    days = _dates(request)
    with request.world.lock:
        events = sorted((t["time"], t["event"]) for t in request.world.truth if t["appid"] == account.appid)
    result, total, i = [], 0, 0
    for d in days:
        while i < len(events) and _china_day(events[i][0]) <= d:
            total += 1 if events[i][1] == "follow" else -1
            i += 1
        result.append({"ref_date": d.isoformat(), "cumulate_user": total})
    return {"list": result}
