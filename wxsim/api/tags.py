"""Tags and blacklist: tags/create|get|update|delete, tag members, getidlist, user/tag/get, blacklist."""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.errors import fail
from wxsim.model import SYSTEM_TAGS, Account

MAX_TAGS = 100
NAME_MAX_BYTES = 30
MEMBERS_PER_CALL = 50
TAGS_PER_FAN = 20
DELETE_LIMIT = 100000
BLACKLIST_PER_CALL = 20
PAGE = 10000
OK = {"errcode": 0, "errmsg": "ok"}


def _tag_body(request: Request) -> dict[str, Any]:
    tag = request.json().get("tag")
    if not isinstance(tag, dict):
        raise fail(e.PARSE_ERROR, "tag")
    return tag


def _check_name(account: Account, name: Any, exclude: int | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise fail(e.TAG_NAME_EXISTS, "empty name")
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        raise fail(e.TAG_NAME_TOO_LONG)
    if any(n == name and i != exclude for i, n in {**SYSTEM_TAGS, **account.tags}.items()):
        raise fail(e.TAG_NAME_EXISTS, "duplicate")
    return name


def _tag_id(account: Account, value: Any, *, modifiable: bool) -> int:
    try:
        tag_id = int(value)
    except (TypeError, ValueError):
        raise fail(e.INVALID_TAG_ID) from None
    if tag_id in SYSTEM_TAGS:
        if modifiable:
            raise fail(e.SYSTEM_TAG)
        return tag_id
    if tag_id not in account.tags:
        raise fail(e.INVALID_TAG_ID)
    return tag_id


def _count(account: Account, tag_id: int) -> int:
    return sum(1 for f in account.fans.values() if f.following and tag_id in f.tags)


@api("POST", "/cgi-bin/tags/create")
def create(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        name = _check_name(account, _tag_body(request).get("name"))
        if len(account.tags) >= MAX_TAGS:
            raise fail(e.TOO_MANY_TAGS)
        tag_id = account.next_tag_id
        account.next_tag_id += 1
        account.tags[tag_id] = name
    return {"tag": {"id": tag_id, "name": name}}


@api("GET", "/cgi-bin/tags/get")
def get(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        tags = [{"id": 2, "name": SYSTEM_TAGS[2], "count": _count(account, 2)}]
        tags += [{"id": i, "name": n, "count": _count(account, i)} for i, n in sorted(account.tags.items())]
    return {"tags": tags}


@api("POST", "/cgi-bin/tags/update")
def update(request: Request) -> dict[str, Any]:
    account = request.need_account()
    tag = _tag_body(request)
    with request.world.lock:
        tag_id = _tag_id(account, tag.get("id"), modifiable=True)
        account.tags[tag_id] = _check_name(account, tag.get("name"), exclude=tag_id)
    return OK


@api("POST", "/cgi-bin/tags/delete")
def delete(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        tag_id = _tag_id(account, _tag_body(request).get("id"), modifiable=True)
        if _count(account, tag_id) > DELETE_LIMIT:
            raise fail(e.TAG_TOO_MANY_FANS)
        del account.tags[tag_id]
        for fan in account.fans.values():
            if tag_id in fan.tags:
                fan.tags.remove(tag_id)
    return OK


def _members(request: Request, *, tagging: bool) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    openids = body.get("openid_list")
    if not isinstance(openids, list) or not 0 < len(openids) <= MEMBERS_PER_CALL:
        raise fail(e.INVALID_LIST_SIZE, f"openid_list holds 1 to {MEMBERS_PER_CALL}")
    with request.world.lock:
        tag_id = _tag_id(account, body.get("tagid"), modifiable=True)
        fans = [request.world.fan(account, str(o)) for o in openids]
        if tagging:
            if any(tag_id not in f.tags and len(f.tags) >= TAGS_PER_FAN for f in fans):
                raise fail(e.FAN_TOO_MANY_TAGS)
            for fan in fans:
                if tag_id not in fan.tags:
                    fan.tags.append(tag_id)
        else:
            for fan in fans:
                if tag_id in fan.tags:
                    fan.tags.remove(tag_id)
    return OK


@api("POST", "/cgi-bin/tags/members/batchtagging")
def batchtagging(request: Request) -> dict[str, Any]:
    return _members(request, tagging=True)


@api("POST", "/cgi-bin/tags/members/batchuntagging")
def batchuntagging(request: Request) -> dict[str, Any]:
    return _members(request, tagging=False)


@api("POST", "/cgi-bin/tags/getidlist")
def getidlist(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        fan = request.world.fan(account, str(request.json().get("openid", "")))
        return {"tagid_list": list(fan.tags)}


def _paged(openids: list[str], start_after: str) -> dict[str, Any]:
    start = openids.index(start_after) + 1 if start_after in openids else 0
    chunk = openids[start : start + PAGE]
    result: dict[str, Any] = {"count": len(chunk), "next_openid": chunk[-1] if chunk else ""}
    result["data"] = {"openid": chunk}
    return result


@api("POST", "/cgi-bin/user/tag/get")
def tag_members(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        tag_id = _tag_id(account, body.get("tagid"), modifiable=False)
        members = [
            o for o in account.fan_order if account.fans[o].following and tag_id in account.fans[o].tags
        ]
    return _paged(members, str(body.get("next_openid", "")))


@api("POST", "/cgi-bin/tags/members/getblacklist")
def getblacklist(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        listed = [o for o in account.fan_order if account.fans[o].blacklisted]
    page = _paged(listed, str(request.json().get("begin_openid", "")))
    return {"total": len(listed), **page}


def _blacklist(request: Request, value: bool) -> dict[str, Any]:
    account = request.need_account()
    openids = request.json().get("openid_list")
    if not isinstance(openids, list) or not 0 < len(openids) <= BLACKLIST_PER_CALL:
        raise fail(e.INVALID_LIST_SIZE, f"openid_list holds 1 to {BLACKLIST_PER_CALL}")
    with request.world.lock:
        for fan in [request.world.fan(account, str(o)) for o in openids]:
            fan.blacklisted = value
    return OK


@api("POST", "/cgi-bin/tags/members/batchblacklist")
def batchblacklist(request: Request) -> dict[str, Any]:
    return _blacklist(request, True)


@api("POST", "/cgi-bin/tags/members/batchunblacklist")
def batchunblacklist(request: Request) -> dict[str, Any]:
    return _blacklist(request, False)
