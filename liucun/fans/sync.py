"""Follower sync: bring Liucun's follow states in line with WeChat's follower list.

Pages of 10,000 openids from user/get; for each page, in one transaction: mark every listed fan as seen
by this sync, create the fans Liucun never heard of (with subscribe_time, subscribe_scene and the QR scene
from user/info/batchget, 100 a call), record a follow for those Liucun believed gone (at their
subscribe_time), and save the checkpoint. After the last page, every fan Liucun believed following who
was not listed, and whose last follow is older than the sync, is recorded as unfollowed with the source
"reconciled" (their unfollow callback was lost). What each of these facts does to a fan is decided by
fans/lifecycle.py, as for callbacks, and written by fans/state_store.py. A follow or unfollow that
arrives during the sync is never undone by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event, EventSource
from liucun.fans.lifecycle import UNFOLLOW_RECONCILED
from liucun.fans.models import SyncJob, SyncStatus
from liucun.fans.state_store import reconcile_unfollows, store_sync_page
from liucun.fans.sync_reading import FollowerReader
from liucun.jobs import claims
from liucun.rawsql import Sql
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
    claims.take(job)  # Superseded if another run holds it
    pages = 0
    reader = FollowerReader(client, account)
    try:
        # One page ahead: while a page is written, the next one's profiles are being read.
        current = reader.page(job.next_openid)
        pending = reader.start(current)
        while max_pages is None or pages < max_pages:
            if not current.openids:
                with transaction.atomic():
                    claims.beat(job)
                    _reconcile(job, account)
                break
            infos = reader.finish(pending)
            following = reader.page(current.next_openid or None)
            pending = reader.start(following)
            with transaction.atomic():
                # The lease and the page commit together: a run that was taken over writes nothing more.
                claims.beat(job)
                _store_page(
                    job,
                    account,
                    current.openids,
                    infos,
                    total=current.total,
                    next_openid=current.next_openid,
                    read_at=current.read_at,
                )
            current = following
            pages += 1
            _refresh_statistics(job.pages_done)
            if on_page is not None:
                on_page(job)
    except claims.Superseded:
        log.warning("follower sync %s of %s was taken over by a newer run", job.pk, account.appid)
        raise
    except Exception as exc:
        claims.fail(job, exc)
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
    read_at: datetime | None = None,
) -> None:
    now = _now()
    stored = store_sync_page(
        Sql(connection),
        account_id=account.pk,
        job_id=job.pk,
        openids=openids,
        infos=infos,
        read_at=read_at or now,
        now=now,
    )
    created, refollowed = stored.created, stored.refollowed
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
    gone = reconcile_unfollows(
        Sql(connection), account_id=account.pk, job_id=job.pk, started_at=job.started_at, now=now
    )
    # The timeline shows each lost unfollow as what it is: found by a sync, not sent by WeChat.
    for openid in gone:
        Event.objects.create(
            account=account,
            openid=openid,
            kind=UNFOLLOW_RECONCILED,
            dedupe_key=f"sync:{job.pk}:{openid}",
            wechat_time=now,
            received_at=now,
            source=EventSource.SYNC,
            payload={"sync_job": job.pk},
        )
    job.reconciled_unfollows = len(gone)
    job.status, job.finished_at, job.heartbeat_at = SyncStatus.DONE, now, now
    job.save(update_fields=["reconciled_unfollows", "status", "finished_at", "heartbeat_at"])
