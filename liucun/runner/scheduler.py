"""Periodic jobs, enqueued by `liucun worker`.

Work that can be found from stored state (fans whose profile was never read, ...) is not queued by the
callback path; a periodic tick finds it and enqueues one job per account. Each tick is claimed with a
conditional UPDATE on ScheduledRun so several workers enqueue it once between them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import close_old_connections

from liucun.runner.models import ScheduledRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    enqueue: Callable[[], int]


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


STALLED_AFTER = timedelta(minutes=5)


def _resume_stalled_syncs() -> int:
    """A running sync whose worker stopped sending heartbeats died with it: enqueue it again to resume."""
    from liucun.fans.models import SyncJob, SyncStatus
    from liucun.fans.tasks import sync_followers

    cutoff = datetime.now(UTC) - STALLED_AFTER
    # Failed syncs are not retried here: their cause (credentials, quota) needs a person first.
    stalled = list(
        SyncJob.objects.filter(status=SyncStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for job_id in stalled:
        sync_followers.enqueue(job_id)
    return len(stalled)


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


def _resume_stalled_tag_jobs() -> int:
    """Tag jobs whose worker died (no heartbeat) are queued again; they resume from their checkpoint."""
    from django.db.models import Q

    from liucun.tags.models import TagJob, TagJobStatus
    from liucun.tags.tasks import run_tag_job

    cutoff = datetime.now(UTC) - STALLED_AFTER
    stalled = list(
        TagJob.objects.filter(status=TagJobStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
        .values_list("pk", flat=True)
    )
    for job_id in stalled:
        run_tag_job.enqueue(job_id)
    return len(stalled)


def _resume_stalled_imports() -> int:
    from liucun.crm.upkeep import resume_stalled_imports

    return resume_stalled_imports()


def _drop_stale_uploads() -> int:
    from liucun.crm.tasks import drop_stale_uploads

    drop_stale_uploads.enqueue()
    return 1


SCHEDULE = [
    Periodic("privacy-erase-after-unfollow", timedelta(minutes=1), _erase_after_unfollow),
    Periodic("refresh-new-fan-profiles", timedelta(seconds=30), _enqueue_profile_refreshes),
    Periodic("resume-stalled-syncs", timedelta(minutes=1), _resume_stalled_syncs),
    Periodic("resume-stalled-tag-jobs", timedelta(minutes=1), _resume_stalled_tag_jobs),
    Periodic("resume-stalled-imports", timedelta(minutes=1), _resume_stalled_imports),
    Periodic("drop-stale-uploads", timedelta(hours=1), _drop_stale_uploads),
    Periodic("scheduled-follower-syncs", timedelta(minutes=5), _enqueue_scheduled_syncs),
]


def claim(name: str, every: timedelta, now: datetime) -> bool:
    ScheduledRun.objects.get_or_create(name=name, defaults={"next_run_at": now})
    return (
        ScheduledRun.objects.filter(name=name, next_run_at__lte=now).update(
            next_run_at=now + every, last_run_at=now
        )
        == 1
    )


def tick(now: datetime | None = None, schedule: list[Periodic] | None = None) -> dict[str, int]:
    """Enqueue every periodic job that is due; returns how many jobs each enqueued."""
    now = now or datetime.now(UTC)
    enqueued = {}
    for periodic in schedule or SCHEDULE:
        if claim(periodic.name, periodic.every, now):
            enqueued[periodic.name] = periodic.enqueue()
    return enqueued


def run_forever(stop: threading.Event, interval: float = 5.0) -> None:
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("the periodic schedule failed; retrying in %.0f s", interval)
        finally:
            close_old_connections()
        stop.wait(interval)
