"""Background jobs of the fan CRM. Each is idempotent: running it twice leaves the same state."""

from __future__ import annotations

import logging

from django_tasks import task

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.actions import apply_profiles
from liucun.fans.models import Fan, SyncJob
from liucun.fans.sync import run_sync
from liucun.jobs import claims
from liucun.wechat.api import users
from liucun.wechat.apierrors import PermanentError

log = logging.getLogger(__name__)

BATCHGET_SIZE = 100  # WeChat's limit for user/info/batchget
MAX_FANS_PER_RUN = 5000


@task()
def refresh_new_fan_profiles(account_id: int) -> int:
    """Read user/info for following fans never read before, 100 a call. Returns how many were read."""
    account = OfficialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None or not account.capabilities.user_management:
        return 0
    client = client_for(account)
    done = 0
    try:
        while done < MAX_FANS_PER_RUN:
            openids = list(
                Fan.objects.filter(
                    account_id=account_id, is_following=True, profile_refreshed_at__isnull=True
                )
                .order_by("id")
                .values_list("openid", flat=True)[:BATCHGET_SIZE]
            )
            if not openids:
                break
            try:
                infos = users.batch_info(client, openids)
            except PermanentError as exc:
                log.warning("user/info/batchget for %s refused: %s", account.appid, exc)
                break
            apply_profiles(account_id, [dict(i) for i in infos], refreshed=openids)
            done += len(openids)
    finally:
        client.close()
    return done


@task(queue_name="sync")
def sync_followers(job_id: int, attempt: int | None = None) -> str:
    """Run or resume a follower sync from its checkpoint. Safe to run twice: only the run that claims the
    queued job works on it; a finished or taken-over job is left alone."""
    job = claims.claim(SyncJob, job_id, attempt)
    if job is None:
        return "nothing to do"
    client = client_for(job.account)
    try:
        run_sync(job, client)
    except claims.Superseded:
        return "taken over by a newer run"
    finally:
        client.close()
    return f"{job.seen} seen, {job.created_fans} new, {job.reconciled_unfollows} reconciled"


@task()
def erase_after_unfollow() -> int:
    """Apply each account's privacy policy to fans who unfollowed (docs/privacy.md). Idempotent."""
    from liucun.fans.privacy import erase_after_unfollow as erase

    return erase()


@task()
def clear_remark_in_wechat(account_id: int, openid: str) -> str:
    """After an erasure: the remark WeChat keeps for the fan (备注) is personal data too. Idempotent."""
    account = OfficialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None or not account.capabilities.user_management:
        return "nothing to do"
    client = client_for(account)
    try:
        users.set_remark(client, openid, "")
    except PermanentError as exc:
        # Not a follower any more (WeChat keeps no remark it will show for them) or no longer allowed.
        log.info("remark of an erased fan of %s not cleared in WeChat: %s", account.appid, exc)
        return "refused"
    finally:
        client.close()
    return "cleared"
