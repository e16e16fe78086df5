"""What the fans app adds to the worker's periodic schedule (liucun/runner/scheduler.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liucun.runner.scheduler import Periodic


def _enqueue_profile_refreshes() -> int:
    from liucun.fans.models import Fan
    from liucun.fans.tasks import refresh_new_fan_profiles

    accounts = (
        Fan.objects.filter(is_following=True, profile_refreshed_at__isnull=True, account__is_active=True)
        .values_list("account_id", flat=True)
        .distinct()
    )
    count = 0
    for account_id in accounts:
        refresh_new_fan_profiles.enqueue(account_id)
        count += 1
    return count


def _enqueue_scheduled_syncs() -> int:
    from liucun.accounts.models import OfficialAccount
    from liucun.fans.actions import SyncAlreadyRunning, start_follower_sync
    from liucun.fans.models import SyncJob

    count = 0
    now = datetime.now(UTC)
    for account in OfficialAccount.objects.filter(is_active=True, sync_every_hours__gt=0):
        last = SyncJob.objects.filter(account=account).order_by("-created_at").first()
        if last is not None and last.created_at > now - timedelta(hours=account.sync_every_hours):
            continue
        try:
            start_follower_sync("scheduler", account)
            count += 1
        except SyncAlreadyRunning:
            pass
    return count


def _erase_after_unfollow() -> int:
    from liucun.fans.privacy import erasure_due
    from liucun.fans.tasks import erase_after_unfollow

    if not erasure_due().exists():
        return 0
    erase_after_unfollow.enqueue()
    return 1


PERIODIC = [
    Periodic("privacy-erase-after-unfollow", timedelta(minutes=1), _erase_after_unfollow),
    Periodic("refresh-new-fan-profiles", timedelta(seconds=30), _enqueue_profile_refreshes),
    Periodic("scheduled-follower-syncs", timedelta(minutes=5), _enqueue_scheduled_syncs),
]
