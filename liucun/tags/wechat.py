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


def unique_openids(openids: list[str]) -> list[str]:
    """The openids of a members call, trimmed, without blanks or repeats, in their order."""
    unique = list(dict.fromkeys(o.strip() for o in openids if o and o.strip()))
    if not unique:
        raise TagError("no fans given")
    return unique


def tag_members(client: WeChatClient, wechat_id: int) -> Iterator[list[str]]:
    """Pages of followers carrying a tag (user/tag/get, 10,000 a page)."""
    return _pages(client, "/cgi-bin/user/tag/get", {"tagid": wechat_id}, cursor="next_openid")


def blacklist_pages(client: WeChatClient) -> Iterator[list[str]]:
    """Pages of the blacklist (tags/members/getblacklist, 10,000 a page)."""
    return _pages(client, "/cgi-bin/tags/members/getblacklist", {}, cursor="begin_openid")


def _pages(client: WeChatClient, path: str, body: dict[str, Any], *, cursor: str) -> Iterator[list[str]]:
    # Both lists answer {count, data: {openid: [...]}, next_openid}; the request names its cursor.
    after = ""
    while True:
        page = call(client, path, {**body, cursor: after})
        openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
        if not openids:
            return
        yield openids
        after = str(page.get("next_openid", ""))
        if not after:
            return
