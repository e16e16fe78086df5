"""Headline numbers and daily follow/unfollow series for the console's overview (read-only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan, FollowPeriod


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
