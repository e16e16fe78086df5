"""Shapes of the REST API's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


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
