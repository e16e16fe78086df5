"""Shapes of the REST API's questions and answers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.utils import translation
from ninja import Schema
from pydantic import Field, create_model

from liucun.fans.filters import MAX_DAYS, Condition, FanFilter, conditions


class FanListQuery(Schema):
    """Sort and page of a fan list; FanQuery adds one query parameter per FanFilter field."""

    ordering: str = "-followed_at"
    page: int = 1
    page_size: int = 50

    def fan_filter(self) -> FanFilter:
        return FanFilter(**{c.name: getattr(self, c.name) for c in conditions()})


_PYTHON_TYPES: dict[str, type] = {"bool": bool, "text": str, "moment": datetime, "tag": int, "days": int}


def _parameter(c: Condition) -> Any:
    with translation.override(None):  # the API speaks English: the msgid
        description = f"{c.label}: {c.help}" if c.help else str(c.label)
    low, high = (0, MAX_DAYS) if c.kind == "days" else (None, None)
    field = Field(None, max_length=c.max_length, description=description, ge=low, le=high)
    return (_PYTHON_TYPES[c.kind] | None, field)


# Built from the one declaration (liucun/fans/filters.py), so the API cannot drift from the dataclass.
if TYPE_CHECKING:
    FanQuery = FanListQuery
else:
    FanQuery = create_model(
        "FanQuery", __base__=FanListQuery, **{c.name: _parameter(c) for c in conditions()}
    )


# The fan CSV's column names: the English ones an import maps, or Chinese (and 是/否 for following).
CsvHeaders = Literal["en", "zh"]


class AccountOut(Schema):
    appid: str
    original_id: str
    name: str
    account_type: str
    verified: bool
    encryption_mode: str
    role: str
    capabilities: dict[str, bool]


class FanOut(Schema):
    openid: str
    unionid: str
    is_following: bool
    channel: str
    subscribe_scene: str
    first_followed_at: datetime | None
    followed_at: datetime | None
    unfollowed_at: datetime | None
    follow_count: int
    unfollow_count: int
    last_message_at: datetime | None
    last_interaction_at: datetime | None
    window_open: bool
    remark: str
    attributes: dict[str, Any]


class FanPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[FanOut]


class PeriodOut(Schema):
    followed_at: datetime | None
    unfollowed_at: datetime | None
    channel: str
    follow_source: str
    unfollow_source: str


class EventOut(Schema):
    kind: str
    wechat_time: datetime
    source: str
    payload: dict[str, Any]


class TimelineOut(Schema):
    fan: FanOut
    periods: list[PeriodOut]
    events: list[EventOut]


class SyncJobOut(Schema):
    id: int
    status: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pages_done: int
    total: int | None
    seen: int
    created_fans: int
    refollowed: int
    reconciled_unfollows: int
    progress: float
    error: str


class ErrorOut(Schema):
    detail: str
