"""Tags, their members and the blacklist: /cgi-bin/tags/..., user/tag/get, tags/members/...blacklist."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from liucun.wechat.api.limits import LimitError, OpenidPage, count_between, max_bytes, openid_page
from liucun.wechat.client import WeChatClient

CREATE = "/cgi-bin/tags/create"
GET = "/cgi-bin/tags/get"
UPDATE = "/cgi-bin/tags/update"
DELETE = "/cgi-bin/tags/delete"
TAG = "/cgi-bin/tags/members/batchtagging"
UNTAG = "/cgi-bin/tags/members/batchuntagging"
IDS_OF_FAN = "/cgi-bin/tags/getidlist"
MEMBERS = "/cgi-bin/user/tag/get"
BLACKLIST = "/cgi-bin/tags/members/getblacklist"
BLACKLIST_ADD = "/cgi-bin/tags/members/batchblacklist"
BLACKLIST_REMOVE = "/cgi-bin/tags/members/batchunblacklist"

NAME_MAX_BYTES = 30  # 45158 beyond
MEMBERS_PER_CALL = 50  # batchtagging / batchuntagging (40032 beyond)
BLACKLIST_PER_CALL = 20  # batchblacklist / batchunblacklist (40032 beyond)
SYSTEM_TAGS = frozenset({0, 1, 2})  # WeChat's own tags, immutable (45058)


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    count: int = 0


def _name(path: str, name: str) -> str:
    return max_bytes(path, "a tag name", name, NAME_MAX_BYTES, 45158)


def _mutable(path: str, tag_id: int) -> int:
    if tag_id in SYSTEM_TAGS:
        raise LimitError(path, 45058, f"tag {tag_id} is one of WeChat's own")
    return tag_id


def create(client: WeChatClient, name: str) -> Tag:
    answer = client.post(CREATE, {"tag": {"name": _name(CREATE, name)}})
    return Tag(id=int(answer["tag"]["id"]), name=str(answer["tag"]["name"]))


def all_tags(client: WeChatClient) -> list[Tag]:
    answer = client.get(GET)
    return [Tag(int(t["id"]), str(t["name"]), int(t.get("count", 0))) for t in answer.get("tags", [])]


def rename(client: WeChatClient, tag_id: int, name: str) -> None:
    client.post(UPDATE, {"tag": {"id": _mutable(UPDATE, tag_id), "name": _name(UPDATE, name)}})


def delete(client: WeChatClient, tag_id: int) -> None:
    client.post(DELETE, {"tag": {"id": _mutable(DELETE, tag_id)}})


def tag_fans(client: WeChatClient, tag_id: int, openids: list[str]) -> None:
    count_between(TAG, openids, 1, MEMBERS_PER_CALL, errcode=40032)
    client.post(TAG, {"openid_list": list(openids), "tagid": tag_id}, idempotent=True)


def untag_fans(client: WeChatClient, tag_id: int, openids: list[str]) -> None:
    count_between(UNTAG, openids, 1, MEMBERS_PER_CALL, errcode=40032)
    client.post(UNTAG, {"openid_list": list(openids), "tagid": tag_id}, idempotent=True)


def tags_of_fan(client: WeChatClient, openid: str) -> list[int]:
    answer = client.post(IDS_OF_FAN, {"openid": openid}, idempotent=True)
    return [int(t) for t in answer.get("tagid_list", [])]


def members(client: WeChatClient, tag_id: int, next_openid: str = "") -> OpenidPage:
    """One page (up to 10,000) of the followers carrying a tag."""
    return openid_page(client.post(MEMBERS, {"tagid": tag_id, "next_openid": next_openid}, idempotent=True))


def all_members(client: WeChatClient, tag_id: int) -> Iterator[list[str]]:
    return _pages(lambda after: members(client, tag_id, after))


def blacklist(client: WeChatClient, begin_openid: str = "") -> OpenidPage:
    """One page (up to 10,000) of the blacklist, with its total."""
    return openid_page(client.post(BLACKLIST, {"begin_openid": begin_openid}, idempotent=True))


def whole_blacklist(client: WeChatClient) -> Iterator[list[str]]:
    return _pages(lambda after: blacklist(client, after))


def add_to_blacklist(client: WeChatClient, openids: list[str]) -> None:
    count_between(BLACKLIST_ADD, openids, 1, BLACKLIST_PER_CALL, errcode=40032)
    client.post(BLACKLIST_ADD, {"openid_list": list(openids)}, idempotent=True)


def remove_from_blacklist(client: WeChatClient, openids: list[str]) -> None:
    count_between(BLACKLIST_REMOVE, openids, 1, BLACKLIST_PER_CALL, errcode=40032)
    client.post(BLACKLIST_REMOVE, {"openid_list": list(openids)}, idempotent=True)


def _pages(read: Callable[[str], OpenidPage]) -> Iterator[list[str]]:
    page = read("")
    while page.openids:
        yield page.openids
        if not page.next_openid:
            return
        page = read(page.next_openid)
