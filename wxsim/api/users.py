"""User management: user/get, user/info, user/info/batchget, user/info/updateremark."""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.errors import fail

PAGE = 10000
BATCH = 100
REMARK_MAX = 30


def _page(openids: list[str], next_openid: str, total: int) -> dict[str, Any]:
    start = 0
    if next_openid:
        try:
            start = openids.index(next_openid) + 1
        except ValueError:
            raise fail(e.INVALID_OPENID, "next_openid") from None
    chunk = openids[start : start + PAGE]
    result: dict[str, Any] = {"total": total, "count": len(chunk), "next_openid": chunk[-1] if chunk else ""}
    if chunk:
        result["data"] = {"openid": chunk}
    return result


@api("GET", "/cgi-bin/user/get")
def user_get(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        following = [o for o in account.fan_order if account.fans[o].following]
    return _page(following, request.query.get("next_openid", ""), len(following))


@api("GET", "/cgi-bin/user/info")
def user_info(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        return request.world.fan(account, request.query.get("openid", "")).info()


@api("POST", "/cgi-bin/user/info/batchget")
def user_batchget(request: Request) -> dict[str, Any]:
    account = request.need_account()
    users = request.json().get("user_list")
    if not isinstance(users, list) or not 0 < len(users) <= BATCH:
        raise fail(e.INVALID_LIST_SIZE, f"user_list holds 1 to {BATCH}")
    with request.world.lock:
        infos = [request.world.fan(account, str(u.get("openid", ""))).info() for u in users]
    return {"user_info_list": infos}


@api("POST", "/cgi-bin/user/info/updateremark")
def update_remark(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    remark = str(body.get("remark", ""))
    if len(remark) > REMARK_MAX:
        # The documented limit is 30 characters; the exact error code is unconfirmed (docs/wxsim.md).
        raise fail(e.INVALID_LIST_SIZE, "remark longer than 30 characters")
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("openid", "")))
        if not fan.following:
            raise fail(e.REQUIRE_SUBSCRIBE)
        fan.remark = remark
    return {"errcode": 0, "errmsg": "ok"}
