"""Follows Liucun learnt of from a follower sync (no callback), counted per China day of the follow.

A sync-found follow is a FollowPeriod with follow_source "sync" dated at the fan's subscribe_time: a
follow callback WeChat never delivered, or a fan from before Liucun. They are not events, so no read
model counts them; this count is remade from the follow periods (one GROUP BY over the account's
sync-found periods, in the pull job, never per view) whenever a sync has finished since the last time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import site_zone
from liucun.fans.models import FollowPeriod, FollowSource, SyncJob
from liucun.reconcile.models import PullState, SyncFoundDay
from liucun.sqlite_writelock import serialized_writes


def found_is_stale(account: OfficialAccount, state: PullState) -> bool:
    syncs = SyncJob.objects.filter(account=account, finished_at__isnull=False)
    if state.found_refreshed_at is not None:
        syncs = syncs.filter(finished_at__gt=state.found_refreshed_at)
    return syncs.exists()


def refresh_found(account: OfficialAccount) -> int:
    """Remake the account's SyncFoundDay rows; returns how many follows they count."""
    # Taken before reading: a sync finishing meanwhile is newer and makes the next run refresh again.
    now = datetime.now(UTC)
    periods = FollowPeriod.objects.filter(account=account, follow_source=FollowSource.SYNC)
    per_day = dict(
        periods.filter(followed_at__isnull=False)
        .annotate(day=TruncDate("followed_at", tzinfo=site_zone()))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    undated = periods.filter(followed_at__isnull=True).count()
    with serialized_writes(), transaction.atomic():
        SyncFoundDay.objects.filter(account=account).delete()
        SyncFoundDay.objects.bulk_create(
            SyncFoundDay(account=account, day=day, found=n) for day, n in sorted(per_day.items())
        )
        PullState.objects.update_or_create(
            account=account, defaults={"found_refreshed_at": now, "found_undated": undated}
        )
    return sum(per_day.values()) + undated


def refresh_found_if_stale(account: OfficialAccount) -> bool:
    state, _ = PullState.objects.get_or_create(account=account)
    if not found_is_stale(account, state):
        return False
    refresh_found(account)
    return True
