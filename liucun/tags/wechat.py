"""The tag and blacklist calls of WeChat's API, with its errors turned into operator-readable ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat.client import WeChatClient

MEMBERS_PER_CALL = 50  # tags/members/batchtagging|batchuntagging (40032 beyond)
BLACKLIST_PER_CALL = 20  # tags/members/batchblacklist|batchunblacklist

MESSAGES = {
    40032: "too many fans in one call",
    45056: "the account already has 100 tags, WeChat's limit",
    45057: "WeChat refuses to delete a tag with more than 100,000 fans",
    45058: "WeChat's own tags (0, 1, 2) cannot be changed",
    45059: "a fan would have more than 20 tags, WeChat's limit",
    45157: "a tag with this name already exists",
    45158: "the name is longer than 30 bytes (10 Chinese characters)",
    45159: "no such tag in WeChat",
    40003: "a fan is not a follower of this account",
}


class TagError(Exception):
    """A tag change refused, by our own limit check or by WeChat, with a reason an operator can act on."""


def refused(exc: WeChatAPIError) -> TagError:
    reason = MESSAGES.get(exc.errcode or 0)
    return TagError(f"WeChat refused: {reason} (errcode {exc.errcode})" if reason else str(exc))


def call(client: WeChatClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return client.post(path, body)
    except WeChatAPIError as exc:
        if exc.retryable or exc.errcode is None:
            raise
        raise refused(exc) from exc


def tag_members(client: WeChatClient, wechat_id: int) -> Iterator[list[str]]:
    """Pages of followers carrying a tag (user/tag/get, 10,000 a page)."""
    next_openid = ""
    while True:
        page = call(client, "/cgi-bin/user/tag/get", {"tagid": wechat_id, "next_openid": next_openid})
        openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
        if not openids:
            return
        yield openids
        next_openid = str(page.get("next_openid", ""))
        if not next_openid:
            return


def blacklist_pages(client: WeChatClient) -> Iterator[list[str]]:
    begin = ""
    while True:
        page = call(client, "/cgi-bin/tags/members/getblacklist", {"begin_openid": begin})
        openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
        if not openids:
            return
        yield openids
        begin = str(page.get("next_openid", ""))
        if not begin:
            return
