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
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from liucun.accounts.models import OfficialAccount
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan, FollowPeriod, FollowSource, SyncJob, SyncStatus
from liucun.rawsql import Sql
from liucun.wechat.apierrors import TokenError
from liucun.wechat.client import WeChatClient

log = logging.getLogger(__name__)

BATCHGET = 100
CHUNK = 500  # openids per IN (...) clause
PROFILE_THREADS = 4  # batchget calls in flight at once


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
    read = ProfileReader(client)
    try:
        while max_pages is None or pages < max_pages:
            params = {"next_openid": job.next_openid} if job.next_openid else {}
            page = client.get("/cgi-bin/user/get", params)
            openids = list(page.get("data", {}).get("openid", [])) if page.get("count") else []
            if not openids:
                _reconcile(job, account)
                break
            infos = _profiles(read, account, openids)
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
    finally:
        read.close()
    return job


class ProfileReader:
    """user/info/batchget for many openids, 100 a call, a few calls at a time.

    At a million new followers the sync makes 10,000 batchget calls; one at a time, their round trips
    would be most of its wall time. The helper threads share the client's keep-alive pool and use the
    token the calling thread holds; a batch whose token was refused is read again by the calling thread,
    which refreshes the token through the shared store.
    """

    def __init__(self, client: WeChatClient, threads: int = PROFILE_THREADS) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="batchget")

    def __call__(self, openids: list[str]) -> dict[str, dict[str, Any]]:
        chunks = list(_chunks(openids, BATCHGET))
        if not chunks:
            return {}
        helper = self._client.pinned()
        answers = list(self._pool.map(lambda chunk: self._try(helper, chunk), chunks))
        infos: dict[str, dict[str, Any]] = {}
        for chunk, answer in zip(chunks, answers, strict=True):
            for info in (answer or self._read(self._client, chunk)).get("user_info_list", []):
                infos[info["openid"]] = info
        return infos

    @staticmethod
    def _read(client: WeChatClient, chunk: list[str]) -> dict[str, Any]:
        return client.post(
            "/cgi-bin/user/info/batchget",
            {"user_list": [{"openid": o, "lang": "zh_CN"} for o in chunk]},
            idempotent=True,
        )

    @classmethod
    def _try(cls, client: WeChatClient, chunk: list[str]) -> dict[str, Any] | None:
        try:
            return cls._read(client, chunk)
        except TokenError:
            return None

    def close(self) -> None:
        self._pool.shutdown()


def profile_reader(client: WeChatClient) -> ProfileReader:
    return ProfileReader(client)


def _profiles(read: ProfileReader, account: OfficialAccount, openids: list[str]) -> dict[str, dict[str, Any]]:
    """user/info for the listed fans Liucun does not know yet."""
    known: set[str] = set()
    for chunk in _chunks(openids, CHUNK):
        known.update(Fan.objects.filter(account=account, openid__in=chunk).values_list("openid", flat=True))
    return read([o for o in openids if o not in known])


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
    created = _insert_new_fans(job, account, infos, now)
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


_NEW_FAN = (
    "INSERT INTO fans_fan (account_id, openid, unionid, is_following, follow_state_at, first_followed_at, "
    "followed_at, follow_count, unfollow_count, channel, subscribe_scene, remark, attributes, "
    "profile_refreshed_at, last_seen_sync, created_at, updated_at) "
    "VALUES (%s, %s, %s, TRUE, %s, %s, %s, 1, 0, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (account_id, openid) DO NOTHING"
)
_NEW_PERIOD = (
    "INSERT INTO fans_followperiod (account_id, fan_id, followed_at, unfollowed_at, channel, follow_source, "
    "unfollow_source) VALUES (%s, %s, %s, NULL, %s, %s, '')"
)


def _insert_new_fans(
    job: SyncJob, account: OfficialAccount, infos: dict[str, dict[str, Any]], now: datetime
) -> int:
    """Create the followers Liucun never heard of, each with an open follow period; returns how many.

    Hand-written executemany: through the ORM, building and adapting a million model instances was most
    of a large first sync's time. Runs inside the page's transaction.
    """
    sql = Sql(connection)
    empty = sql.json({})
    rows = []
    for openid, info in infos.items():
        if not info.get("subscribe"):
            continue
        followed = sql.dt(datetime.fromtimestamp(int(info.get("subscribe_time", 0)), tz=UTC))
        scene = info.get("qr_scene_str") or (str(info["qr_scene"]) if info.get("qr_scene") else "")
        rows.append(
            (
                account.pk,
                openid,
                info.get("unionid", ""),
                followed,
                followed,
                followed,
                scene,
                info.get("subscribe_scene", ""),
                info.get("remark", ""),
                empty,
                sql.dt(now),
                job.pk,
                sql.dt(now),
                sql.dt(now),
            )
        )
    if not rows:
        return 0
    cursor = sql.cursor()
    sql.executemany(cursor, _NEW_FAN, rows)
    # The fans this page created (a page written again after a crash finds them there already, with
    # their periods): follow_count 1 and seen by this sync, without a period yet.
    created: list[tuple[int, Any, str]] = []
    openids = [row[1] for row in rows]
    for chunk in _chunks(openids, CHUNK):
        created.extend(
            Fan.objects.filter(account=account, openid__in=chunk, follow_count=1, last_seen_sync=job.pk)
            .exclude(follow_periods__isnull=False)
            .values_list("id", "followed_at", "channel")
        )
    sql.executemany(
        cursor,
        _NEW_PERIOD,
        [
            (account.pk, fan_id, sql.dt(followed), channel, FollowSource.SYNC.value)
            for fan_id, followed, channel in created
        ],
    )
    return len(created)
