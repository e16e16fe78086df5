"""Follower sync: bring Liucun's follow states in line with WeChat's follower list.

Pages of 10,000 openids from user/get; for each page, in one transaction: mark every listed fan as seen
by this sync, create the fans Liucun never heard of (with subscribe_time, subscribe_scene and the QR scene
from user/info/batchget, 100 a call), mark as following those Liucun believed gone, and save the
checkpoint. After the last page, every fan Liucun believed following who was not listed, and whose last
follow is older than the sync, is recorded as unfollowed with the source "reconciled" (their unfollow
callback was lost). A follow that arrives during the sync is never undone by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan, FollowPeriod, FollowSource, SyncJob, SyncStatus
from liucun.fans.sync_reading import CHUNK, FollowerReader, chunks
from liucun.fans.sync_writes import insert_new_fans
from liucun.fans.unfollow_hooks import unfollowed
from liucun.wechat.client import WeChatClient

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def run_sync(
    job: SyncJob,
    client: WeChatClient,
    *,
    max_pages: int | None = None,
    on_page: Callable[[SyncJob], None] | None = None,
) -> SyncJob:
    """Run (or resume) a sync job until done, or until `max_pages` pages were done in this call."""
    account = job.account
    if job.status in (SyncStatus.DONE,):
        return job
    if job.started_at is None:
        job.started_at = _now()
    job.status, job.heartbeat_at, job.error = SyncStatus.RUNNING, _now(), ""
    job.save(update_fields=["status", "started_at", "heartbeat_at", "error"])
    pages = 0
    reader = FollowerReader(client, account)
    try:
        # One page ahead: while a page is written, the next one's profiles are being read.
        current = reader.page(job.next_openid)
        pending = reader.start(current)
        while max_pages is None or pages < max_pages:
            if not current.openids:
                _reconcile(job, account)
                break
            infos = reader.finish(pending)
            following = reader.page(current.next_openid or None)
            pending = reader.start(following)
            _store_page(
                job, account, current.openids, infos, total=current.total, next_openid=current.next_openid
            )
            current = following
            pages += 1
            _refresh_statistics(job.pages_done)
            if on_page is not None:
                on_page(job)
    except Exception as exc:
        job.status, job.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        job.save(update_fields=["status", "error"])
        log.warning("follower sync %s of %s failed: %s", job.pk, account.appid, job.error)
        raise
    finally:
        reader.close()
    return job


def _refresh_statistics(pages_done: int) -> None:
    """PostgreSQL: re-read the fan tables' statistics while a first sync multiplies their size.

    The planner's row estimates come from the last ANALYZE; a table that went from a few rows to a
    hundred thousand within minutes is still "tiny" to it, and it scans the whole table for each lookup by
    openid instead of using the index. Autovacuum would catch up, but only a minute or more later.
    """
    if connection.vendor == "postgresql" and pages_done in (1, 2, 4, 8, 16, 32, 64):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE fans_fan, fans_followperiod")


@transaction.atomic
def _store_page(
    job: SyncJob,
    account: OfficialAccount,
    openids: list[str],
    infos: dict[str, dict[str, Any]],
    *,
    total: int,
    next_openid: str,
) -> None:
    now = _now()
    created = insert_new_fans(job, account, infos, now)
    refollowed = 0
    for chunk in chunks(openids, CHUNK):
        gone = list(Fan.objects.filter(account=account, openid__in=chunk, is_following=False))
        for fan in gone:
            fan.is_following, fan.follow_state_at, fan.last_seen_sync = True, now, job.pk
            fan.save(update_fields=["is_following", "follow_state_at", "last_seen_sync", "updated_at"])
            FollowPeriod.objects.create(
                account=account, fan=fan, followed_at=now, follow_source=FollowSource.SYNC
            )
            refollowed += 1
        Fan.objects.filter(account=account, openid__in=chunk).exclude(last_seen_sync=job.pk).update(
            last_seen_sync=job.pk
        )
    job.total, job.next_openid = total, next_openid
    job.pages_done += 1
    job.seen += len(openids)
    job.created_fans += created
    job.refollowed += refollowed
    job.heartbeat_at = now
    job.save(
        update_fields=[
            "total",
            "next_openid",
            "pages_done",
            "seen",
            "created_fans",
            "refollowed",
            "heartbeat_at",
        ]
    )


@transaction.atomic
def _reconcile(job: SyncJob, account: OfficialAccount) -> None:
    now = _now()
    assert job.started_at is not None
    missing = (
        Fan.objects.select_for_update()
        .filter(account=account, is_following=True)
        .exclude(last_seen_sync=job.pk)
        .exclude(follow_state_at__gte=job.started_at)
    )
    count = 0
    gone: list[int] = []
    for fan in missing:
        fan.is_following, fan.follow_state_at, fan.unfollowed_at = False, now, now
        fan.unfollow_count += 1
        fan.save(
            update_fields=["is_following", "follow_state_at", "unfollowed_at", "unfollow_count", "updated_at"]
        )
        period = (
            FollowPeriod.objects.filter(fan=fan, unfollowed_at__isnull=True).order_by("-followed_at").first()
        )
        if period is None:
            FollowPeriod.objects.create(
                account=account, fan=fan, unfollowed_at=now, unfollow_source=FollowSource.RECONCILED
            )
        else:
            period.unfollowed_at, period.unfollow_source = now, FollowSource.RECONCILED
            period.save(update_fields=["unfollowed_at", "unfollow_source"])
        # The timeline shows the lost unfollow as what it is: found by a sync, not sent by WeChat.
        Event.objects.create(
            account=account,
            openid=fan.openid,
            kind="sync.unfollow_reconciled",
            dedupe_key=f"sync:{job.pk}:{fan.openid}",
            wechat_time=now,
            received_at=now,
            source=EventSource.SYNC,
            payload={"sync_job": job.pk},
        )
        count += 1
        gone.append(fan.pk)
    unfollowed(gone)
    job.reconciled_unfollows = count
    job.status, job.finished_at, job.heartbeat_at = SyncStatus.DONE, now, now
    job.save(update_fields=["reconciled_unfollows", "status", "finished_at", "heartbeat_at"])
