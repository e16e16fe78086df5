"""Whether the overview's numbers are still filling in (read-only); the numbers: analytics/overview.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Min

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event
from liucun.fans.models import FollowPeriod, SyncJob, SyncStatus

# A history is being replayed (the demo's 90 days, a migration) while events keep arriving now but carry
# WeChat times more than REPLAY_LAG old; "now" is REPLAY_FRESH, so a demo stopped halfway is not loading.
REPLAY_FRESH = timedelta(minutes=10)
REPLAY_LAG = timedelta(days=1)


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
