"""Read-side questions about fans, shared by the API and the console (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod

MESSAGE_WINDOW = timedelta(hours=48)
EVENT_WINDOW = timedelta(minutes=1)
ORDERINGS = {
    "followed_at": "followed_at",
    "-followed_at": "-followed_at",
    "last_interaction_at": "last_interaction_at",
    "-last_interaction_at": "-last_interaction_at",
    "openid": "openid",
}
MAX_PAGE_SIZE = 200


def window_open(fan: Fan, now: datetime | None = None) -> bool:
    """WeChat's customer-service window: 48 h after a message, 1 minute after a click, follow or scan."""
    now = now or datetime.now(UTC)
    return bool(
        (fan.last_message_at and now - fan.last_message_at <= MESSAGE_WINDOW)
        or (fan.last_event_at and now - fan.last_event_at <= EVENT_WINDOW)
    )


@dataclass(frozen=True)
class FanFilter:
    following: bool | None = None
    channel: str | None = None
    window_open: bool | None = None
    followed_after: datetime | None = None
    followed_before: datetime | None = None
    interacted_after: datetime | None = None
    openid_prefix: str | None = None
    tag: int | None = None  # a Tag's primary key: fans carrying it


def fans(account: OfficialAccount, filt: FanFilter, ordering: str = "-followed_at") -> QuerySet[Fan]:
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}")
    qs = Fan.objects.filter(account=account)
    if filt.following is not None:
        qs = qs.filter(is_following=filt.following)
    if filt.channel is not None:
        qs = qs.filter(channel=filt.channel)
    if filt.followed_after is not None:
        qs = qs.filter(followed_at__gte=filt.followed_after)
    if filt.followed_before is not None:
        qs = qs.filter(followed_at__lt=filt.followed_before)
    if filt.interacted_after is not None:
        qs = qs.filter(last_interaction_at__gte=filt.interacted_after)
    if filt.openid_prefix:
        qs = qs.filter(openid__startswith=filt.openid_prefix)
    if filt.tag is not None:
        qs = qs.filter(fantags__tag_id=filt.tag)
    if filt.window_open is not None:
        now = datetime.now(UTC)
        open_q = Q(last_message_at__gte=now - MESSAGE_WINDOW) | Q(last_event_at__gte=now - EVENT_WINDOW)
        qs = qs.filter(open_q) if filt.window_open else qs.exclude(open_q)
    return qs.order_by(ORDERINGS[ordering], "id")


def timeline(
    account: OfficialAccount, openid: str, limit: int = 500
) -> tuple[Fan, list[FollowPeriod], list[Event]]:
    fan = Fan.objects.get(account=account, openid=openid)
    periods = list(FollowPeriod.objects.filter(fan=fan).order_by("followed_at", "id"))
    events = list(
        Event.objects.filter(account=account, openid=openid).order_by("-wechat_time", "-id")[:limit]
    )
    return fan, periods, events


def window_closes_at(fan: Fan) -> datetime | None:
    """When the customer-service window closes, if it is open now (the later of the two windows)."""
    ends = [
        t + span
        for t, span in ((fan.last_message_at, MESSAGE_WINDOW), (fan.last_event_at, EVENT_WINDOW))
        if t is not None
    ]
    end = max(ends, default=None)
    return end if end is not None and end > datetime.now(UTC) else None
