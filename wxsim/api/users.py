"""User management: user/get, user/info, user/info/batchget, user/info/updateremark."""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.errors import fail

PAGE = 10000
BATCH = 100
# 设置用户备注名: "新的备注名，长度必须小于30字符" (40092 "invalid remark name" otherwise): under 30,
# in bytes by default or in characters (Account.remark_limit_unit: which one WeChat counts is unconfirmed).
REMARK_LIMIT = 30


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
        fan = request.world.fan(account, request.query.get("openid", ""))
        return fan.info(with_unionid=account.open_platform)


@api("POST", "/cgi-bin/user/info/batchget")
def user_batchget(request: Request) -> dict[str, Any]:
    account = request.need_account()
    users = request.json().get("user_list")
    if not isinstance(users, list) or not 0 < len(users) <= BATCH:
        raise fail(e.INVALID_LIST_SIZE, f"user_list holds 1 to {BATCH}")
    with request.world.lock:
        fans = [request.world.fan(account, str(u.get("openid", ""))) for u in users]
        infos = [fan.info(with_unionid=account.open_platform) for fan in fans]
    return {"user_info_list": infos}


@api("POST", "/cgi-bin/user/info/updateremark")
def update_remark(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    remark = str(body.get("remark", ""))
    length = len(remark.encode("utf-8")) if account.remark_limit_unit == "bytes" else len(remark)
    if length >= REMARK_LIMIT:
        raise fail(e.INVALID_REMARK, f"remark must be under 30 {account.remark_limit_unit}")
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("openid", "")))
        if not fan.following:
            raise fail(e.REQUIRE_SUBSCRIBE)
        fan.remark = remark
    return {"errcode": 0, "errmsg": "ok"}
