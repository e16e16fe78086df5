"""Named write operations on fans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan, SyncJob, SyncStatus
from liucun.staff.audit import actor_label, record


@transaction.atomic
def apply_profiles(account_id: int, infos: Iterable[dict[str, Any]], *, refreshed: Iterable[str]) -> int:
    """Store what user/info says about fans; mark every openid in `refreshed` as read.

    Follow state is not taken from user/info: the event store's history is the authority for it, and
    follower sync reconciles the two.
    """
    now = datetime.now(UTC)
    by_openid = {info["openid"]: info for info in infos if info.get("openid")}
    changed = 0
    fans = Fan.objects.select_for_update().filter(account_id=account_id, openid__in=list(refreshed))
    for fan in fans:
        info = by_openid.get(fan.openid, {})
        fan.profile_refreshed_at = now
        update = ["profile_refreshed_at", "updated_at"]
        if info.get("unionid") and info["unionid"] != fan.unionid:
            fan.unionid = info["unionid"]
            update.append("unionid")
        if info.get("subscribe_scene") and info["subscribe_scene"] != fan.subscribe_scene:
            fan.subscribe_scene = info["subscribe_scene"]
            update.append("subscribe_scene")
        fan.save(update_fields=update)
        changed += len(update) > 2
    return changed


class SyncAlreadyRunning(Exception):
    def __init__(self, job: SyncJob) -> None:
        super().__init__(f"sync {job.pk} of this account is already {job.status}")
        self.job = job


@transaction.atomic
def start_follower_sync(actor: AbstractBaseUser | str, account: OfficialAccount) -> SyncJob:
    """Queue a follower sync unless one is queued or running; the job row and its task commit together."""
    from liucun.fans.tasks import sync_followers

    OfficialAccount.objects.select_for_update().filter(pk=account.pk).first()
    active = SyncJob.objects.filter(
        account=account, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]
    ).first()
    if active is not None:
        raise SyncAlreadyRunning(active)
    job = SyncJob.objects.create(account=account, requested_by=actor_label(actor))
    sync_followers.enqueue(job.pk)
    record(actor, "fans.start_follower_sync", account=account, target=f"sync {job.pk}")
    return job


class SyncNotResumable(Exception):
    pass


@transaction.atomic
def resume_follower_sync(actor: AbstractBaseUser | str, account: OfficialAccount, job_id: int) -> SyncJob:
    """Queue a failed sync again; it continues after its last finished page (its checkpoint)."""
    from liucun.fans.tasks import sync_followers

    OfficialAccount.objects.select_for_update().filter(pk=account.pk).first()
    job = SyncJob.objects.select_for_update().filter(account=account, pk=job_id).first()
    if job is None or job.status != SyncStatus.FAILED:
        raise SyncNotResumable("only a failed sync can be resumed")
    active = SyncJob.objects.filter(
        account=account, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]
    ).first()
    if active is not None:
        raise SyncAlreadyRunning(active)
    job.status, job.error = SyncStatus.QUEUED, ""
    job.save(update_fields=["status", "error"])
    sync_followers.enqueue(job.pk)
    record(actor, "fans.resume_follower_sync", account=account, target=f"sync {job.pk}")
    return job
