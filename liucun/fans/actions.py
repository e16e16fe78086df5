"""Named write operations on fans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan, SyncJob, SyncStatus
from liucun.jobs import claims
from liucun.refusals import Refused
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


class SyncAlreadyRunning(Refused):
    code = "sync.already_running"
    status = 409

    def __init__(self, job: SyncJob) -> None:
        super().__init__(_("Sync %(job)s is already running."), {"job": job.pk})
        self.job = job


@transaction.atomic
def start_follower_sync(actor: AbstractBaseUser | str, account: OfficialAccount) -> SyncJob:
    """Queue a follower sync unless one is queued or running; the job row and its task commit together."""
    OfficialAccount.objects.select_for_update().filter(pk=account.pk).first()
    active = SyncJob.objects.filter(
        account=account, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]
    ).first()
    if active is not None:
        raise SyncAlreadyRunning(active)
    job = SyncJob.objects.create(account=account, requested_by=actor_label(actor))
    claims.enqueue(job)
    record(actor, "fans.start_follower_sync", account=account, target=f"sync {job.pk}")
    return job


class SyncNotResumable(Refused):
    code = "sync.not_resumable"
    status = 409


@transaction.atomic
def resume_follower_sync(actor: AbstractBaseUser | str, account: OfficialAccount, job_id: int) -> SyncJob:
    """Queue a failed sync again, as a new attempt; it continues after its last finished page."""
    OfficialAccount.objects.select_for_update().filter(pk=account.pk).first()
    active = SyncJob.objects.filter(
        account=account, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]
    ).first()
    if active is not None and active.pk != job_id:
        raise SyncAlreadyRunning(active)
    job = claims.requeue(SyncJob, job_id, Q(account=account, status=SyncStatus.FAILED))
    if job is None:
        raise SyncNotResumable(_("Only a failed sync can be resumed."))
    record(actor, "fans.resume_follower_sync", account=account, target=f"sync {job.pk}")
    return job
