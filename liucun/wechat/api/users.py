"""Followers and their profiles: user/get, user/info, user/info/batchget, user/info/updateremark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict, cast

from liucun.wechat.api.limits import OpenidPage, count_between, max_chars, openid_page
from liucun.wechat.client import WeChatClient

GET = "/cgi-bin/user/get"
INFO = "/cgi-bin/user/info"
BATCHGET = "/cgi-bin/user/info/batchget"
UPDATE_REMARK = "/cgi-bin/user/info/updateremark"

BATCHGET_MAX = 100  # user/info/batchget (40032 beyond)
PAGE_MAX = 10000  # user/get answers at most this many a page
REMARK_MAX_CHARS = 30  # "less than 30 characters"; the code for a longer one is 40092 per the reference


class UserInfo(TypedDict, total=False):
    """What user/info says about a follower (nickname and avatar are no longer returned)."""

    subscribe: int
    openid: str
    language: str
    subscribe_time: int
    unionid: str
    remark: str
    groupid: int
    tagid_list: list[int]
    subscribe_scene: str
    qr_scene: int
    qr_scene_str: str


def followers(client: WeChatClient, next_openid: str = "") -> OpenidPage:
    """One page of followers after `next_openid` ("" for the first), with the total."""
    answer = client.get(GET, {"next_openid": next_openid} if next_openid else {})
    return openid_page(answer)


def all_followers(client: WeChatClient) -> Iterator[list[str]]:
    page = followers(client)
    while page.openids:
        yield page.openids
        if not page.next_openid:
            return
        page = followers(client, page.next_openid)


def info(client: WeChatClient, openid: str, lang: str = "zh_CN") -> UserInfo:
    return cast(UserInfo, client.get(INFO, {"openid": openid, "lang": lang}))


def batch_info(client: WeChatClient, openids: list[str], lang: str = "zh_CN") -> list[UserInfo]:
    """Profiles of 1 to 100 followers in one call (idempotent: safe to retry)."""
    count_between(BATCHGET, openids, 1, BATCHGET_MAX, errcode=40032)
    answer = client.post(
        BATCHGET, {"user_list": [{"openid": o, "lang": lang} for o in openids]}, idempotent=True
    )
    return cast(list[UserInfo], list(answer.get("user_info_list", [])))


def set_remark(client: WeChatClient, openid: str, remark: str) -> None:
    """The follower's remark (备注); "" clears it. Verified service accounts only (48001)."""
    max_chars(UPDATE_REMARK, "the remark", remark, REMARK_MAX_CHARS, 40092)
    client.post(UPDATE_REMARK, {"openid": openid, "remark": remark}, idempotent=True)
