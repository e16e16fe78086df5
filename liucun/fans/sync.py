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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan, FollowPeriod, FollowSource, SyncJob, SyncStatus
from liucun.wechat.client import WeChatClient

log = logging.getLogger(__name__)

BATCHGET = 100
CHUNK = 500  # openids per IN (...) clause


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    try:
        while max_pages is None or pages < max_pages:
            params = {"next_openid": job.next_openid} if job.next_openid else {}
            page = client.get("/cgi-bin/user/get", params)
            openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
            if not openids:
                _reconcile(job, account)
                break
            infos = _profiles(client, account, openids)
            _store_page(
                job,
                account,
                openids,
                infos,
                total=int(page.get("total", 0)),
                next_openid=str(page.get("next_openid", "")),
            )
            pages += 1
            if on_page is not None:
                on_page(job)
    except Exception as exc:
        job.status, job.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        job.save(update_fields=["status", "error"])
        log.warning("follower sync %s of %s failed: %s", job.pk, account.appid, job.error)
        raise
    return job


def _profiles(
    client: WeChatClient, account: OfficialAccount, openids: list[str]
) -> dict[str, dict[str, Any]]:
    """user/info for the listed fans Liucun does not know yet, 100 a call."""
    known: set[str] = set()
    for chunk in _chunks(openids, CHUNK):
        known.update(Fan.objects.filter(account=account, openid__in=chunk).values_list("openid", flat=True))
    unknown = [o for o in openids if o not in known]
    infos: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(unknown, BATCHGET):
        answer = client.post(
            "/cgi-bin/user/info/batchget",
            {"user_list": [{"openid": o, "lang": "zh_CN"} for o in chunk]},
            idempotent=True,
        )
        for info in answer.get("user_info_list", []):
            infos[info["openid"]] = info
    return infos


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
    new_fans = []
    for openid, info in infos.items():
        if not info.get("subscribe"):
            continue
        followed = datetime.fromtimestamp(int(info.get("subscribe_time", 0)), tz=UTC)
        scene = info.get("qr_scene_str") or (str(info["qr_scene"]) if info.get("qr_scene") else "")
        new_fans.append(
            Fan(
                account=account,
                openid=openid,
                unionid=info.get("unionid", ""),
                is_following=True,
                follow_state_at=followed,
                first_followed_at=followed,
                followed_at=followed,
                follow_count=1,
                channel=scene,
                subscribe_scene=info.get("subscribe_scene", ""),
                remark=info.get("remark", ""),
                profile_refreshed_at=now,
                last_seen_sync=job.pk,
            )
        )
    Fan.objects.bulk_create(new_fans, ignore_conflicts=True)
    created = {
        f.openid: f
        for f in Fan.objects.filter(
            account=account, openid__in=[f.openid for f in new_fans], follow_count=1, last_seen_sync=job.pk
        )
    }
    FollowPeriod.objects.bulk_create(
        [
            FollowPeriod(
                account=account,
                fan=fan,
                followed_at=fan.followed_at,
                channel=fan.channel,
                follow_source=FollowSource.SYNC,
            )
            for fan in created.values()
            if not fan.follow_periods.exists()
        ]
    )
    refollowed = 0
    for chunk in _chunks(openids, CHUNK):
        gone = list(Fan.objects.filter(account=account, openid__in=chunk, is_following=False))
        for fan in gone:
            fan.is_following, fan.follow_state_at, fan.last_seen_sync = True, now, job.pk
            fan.save(update_fields=["is_following", "follow_state_at", "last_seen_sync", "updated_at"])
            FollowPeriod.objects.create(
                account=account, fan=fan, followed_at=now, follow_source=FollowSource.SYNC
            )
            refollowed += 1
        Fan.objects.filter(account=account, openid__in=chunk).update(last_seen_sync=job.pk)
    job.total, job.next_openid = total, next_openid
    job.pages_done += 1
    job.seen += len(openids)
    job.created_fans += len(created)
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
    job.reconciled_unfollows = count
    job.status, job.finished_at, job.heartbeat_at = SyncStatus.DONE, now, now
    job.save(update_fields=["reconciled_unfollows", "status", "finished_at", "heartbeat_at"])
