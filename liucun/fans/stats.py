"""Headline numbers and daily follow/unfollow series for the console's overview (read-only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod, SyncJob, SyncStatus

# A history is being replayed (the demo's 90 days, a migration) while events keep arriving now but carry
# WeChat times more than REPLAY_LAG old; "now" is REPLAY_FRESH, so a demo stopped halfway is not loading.
REPLAY_FRESH = timedelta(minutes=10)
REPLAY_LAG = timedelta(days=1)


def headline(account: OfficialAccount) -> dict[str, int]:
    fans = Fan.objects.filter(account=account)
    return {
        "following": fans.filter(is_following=True).count(),
        "unfollowed": fans.filter(is_following=False).count(),
        "known": fans.count(),
    }


def daily_follows(account: OfficialAccount, days: int = 30, today: date | None = None) -> dict[str, Any]:
    """Follows, unfollows and net change per day over the last `days` days, in the site's time zone."""
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    periods = FollowPeriod.objects.filter(account=account)

    def per_day(field: str) -> dict[date, int]:
        rows = (
            periods.filter(**{f"{field}__gte": since})
            .annotate(day=TruncDate(field, tzinfo=tz))
            .values("day")
            .annotate(n=Count("id"))
        )
        return {row["day"]: row["n"] for row in rows}

    follows, unfollows = per_day("followed_at"), per_day("unfollowed_at")
    day_list = [first + timedelta(days=i) for i in range(days)]
    return {
        "days": [d.isoformat() for d in day_list],
        "follows": [follows.get(d, 0) for d in day_list],
        "unfollows": [unfollows.get(d, 0) for d in day_list],
        "net": [follows.get(d, 0) - unfollows.get(d, 0) for d in day_list],
    }


def channels(account: OfficialAccount, limit: int = 12) -> list[dict[str, Any]]:
    """Following fans by acquisition channel, largest first ("" is search, article and other scenes)."""
    rows = (
        Fan.objects.filter(account=account, is_following=True)
        .values("channel")
        .annotate(n=Count("id"))
        .order_by("-n", "channel")[:limit]
    )
    return [{"channel": row["channel"], "fans": row["n"]} for row in rows]


def history_loading(
    account: OfficialAccount, last_sync: SyncJob | None, now: datetime | None = None
) -> dict[str, Any]:
    """Whether the numbers are still filling in, and why: a follower sync under way, or a history being
    replayed (events arriving now with old WeChat times). days: how many days of follows are in so far."""
    now = now or datetime.now(UTC)
    syncing = last_sync is not None and last_sync.status in (SyncStatus.QUEUED, SyncStatus.RUNNING)
    newest = (
        Event.objects.filter(account=account).order_by("-id").values("wechat_time", "received_at").first()
    )
    replaying = (
        newest is not None
        and now - newest["received_at"] <= REPLAY_FRESH
        and newest["received_at"] - newest["wechat_time"] > REPLAY_LAG
    )
    if not (syncing or replaying):
        return {"loading": False}
    days = None
    if replaying:
        assert newest is not None
        first = FollowPeriod.objects.filter(account=account).aggregate(first=Min("followed_at"))["first"]
        days = max((newest["wechat_time"] - first).days, 0) if first is not None else 0
    return {"loading": True, "syncing": syncing, "replaying": replaying, "days": days}
