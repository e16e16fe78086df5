"""Statistics (datacube): follower summary and cumulation, articles, upstream messages, the interface.

Each report takes a day range (China days, end at most yesterday) no longer than its documented span;
a longer one is refused before the call with WeChat's own code (61501).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from liucun.wechat.api.limits import LimitError
from liucun.wechat.client import WeChatClient

USER_SUMMARY = "/datacube/getusersummary"
USER_CUMULATE = "/datacube/getusercumulate"
ARTICLE_READ = "/datacube/getarticleread"
ARTICLE_SHARE = "/datacube/getarticleshare"
BIZ_SUMMARY = "/datacube/getbizsummary"
ARTICLE_TOTAL_DETAIL = "/datacube/getarticletotaldetail"
UPSTREAM_MSG = "/datacube/getupstreammsg"
INTERFACE_SUMMARY = "/datacube/getinterfacesummary"

SPAN_DAYS = {USER_SUMMARY: 7, USER_CUMULATE: 7, UPSTREAM_MSG: 7, INTERFACE_SUMMARY: 30}
DATE_RANGE_ERROR = 61501


@dataclass(frozen=True)
class UserSummary:
    ref_date: date
    user_source: int  # 0 other, 1 search, 30 QR code, 57 article, 100 ads, 161 repost, ...
    new_user: int
    cancel_user: int


@dataclass(frozen=True)
class UserCumulate:
    ref_date: date
    cumulate_user: int


@dataclass(frozen=True)
class UpstreamMessages:
    ref_date: date
    msg_type: int  # 1 text, 2 image, 3 voice, 4 video, 6 third-party app message
    msg_user: int
    msg_count: int


@dataclass(frozen=True)
class InterfaceSummary:
    ref_date: date
    callback_count: int
    fail_count: int
    total_time_cost: int
    max_time_cost: int


def _rows(client: WeChatClient, path: str, begin: date, end: date) -> list[dict[str, Any]]:
    span = SPAN_DAYS.get(path)
    if end < begin or (span is not None and (end - begin) >= timedelta(days=span)):
        raise LimitError(path, DATE_RANGE_ERROR, f"{begin}..{end} is not a range of 1 to {span} days")
    answer = client.post(
        path, {"begin_date": begin.isoformat(), "end_date": end.isoformat()}, idempotent=True
    )
    return list(answer.get("list", []))


def _day(row: dict[str, Any]) -> date:
    return date.fromisoformat(str(row["ref_date"]))


def user_summary(client: WeChatClient, begin: date, end: date) -> list[UserSummary]:
    return [
        UserSummary(
            _day(r), int(r.get("user_source", 0)), int(r.get("new_user", 0)), int(r.get("cancel_user", 0))
        )
        for r in _rows(client, USER_SUMMARY, begin, end)
    ]


def user_cumulate(client: WeChatClient, begin: date, end: date) -> list[UserCumulate]:
    return [
        UserCumulate(_day(r), int(r.get("cumulate_user", 0)))
        for r in _rows(client, USER_CUMULATE, begin, end)
    ]


def upstream_messages(client: WeChatClient, begin: date, end: date) -> list[UpstreamMessages]:
    return [
        UpstreamMessages(
            _day(r), int(r.get("msg_type", 0)), int(r.get("msg_user", 0)), int(r.get("msg_count", 0))
        )
        for r in _rows(client, UPSTREAM_MSG, begin, end)
    ]


def interface_summary(client: WeChatClient, begin: date, end: date) -> list[InterfaceSummary]:
    return [
        InterfaceSummary(
            _day(r),
            int(r.get("callback_count", 0)),
            int(r.get("fail_count", 0)),
            int(r.get("total_time_cost", 0)),
            int(r.get("max_time_cost", 0)),
        )
        for r in _rows(client, INTERFACE_SUMMARY, begin, end)
    ]


# Article reports: their rows carry many counters whose set WeChat extends; they come back as rows
# (each with ref_date as a date) rather than as a class that would drop the new ones.


def _article_rows(client: WeChatClient, path: str, begin: date, end: date) -> list[dict[str, Any]]:
    return [{**r, "ref_date": _day(r)} for r in _rows(client, path, begin, end)]


def article_reads(client: WeChatClient, begin: date, end: date) -> list[dict[str, Any]]:
    return _article_rows(client, ARTICLE_READ, begin, end)


def article_shares(client: WeChatClient, begin: date, end: date) -> list[dict[str, Any]]:
    return _article_rows(client, ARTICLE_SHARE, begin, end)


def account_summary(client: WeChatClient, begin: date, end: date) -> list[dict[str, Any]]:
    return _article_rows(client, BIZ_SUMMARY, begin, end)


def article_totals(client: WeChatClient, begin: date, end: date) -> list[dict[str, Any]]:
    return _article_rows(client, ARTICLE_TOTAL_DETAIL, begin, end)
