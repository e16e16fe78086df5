"""The work behind tag jobs: batches of members with checkpoints, and the pull from WeChat."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.tags.models import FanTag, Tag, TagJob, TagJobKind, TagJobStatus
from liucun.tags.wechat import MEMBERS_PER_CALL, call, tag_members
from liucun.wechat.client import WeChatClient

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _following(fan_ids: list[int]) -> list[int]:
    """Those of the fans still following, locked until the transaction ends so that an unfollow being
    recorded meanwhile (which clears the fan's tags, liucun/tags/unfollow.py) waits for our memberships."""
    rows = Fan.objects.select_for_update(no_key=True).filter(pk__in=fan_ids, is_following=True)
    # Locks taken in openid order, as the callback path takes them, so neither can deadlock the other.
    return list(rows.order_by("openid").values_list("pk", flat=True))


def apply_batch(
    client: WeChatClient,
    tag: Tag,
    kind: str,
    openids: list[str],
    fan_ids: dict[str, int],
    *,
    job: TagJob | None = None,
    advance: int = 0,
) -> None:
    """One WeChat call (at most 50 fans), then our copy and the job's checkpoint in one transaction."""
    path = "batchtagging" if kind == TagJobKind.TAG else "batchuntagging"
    call(client, f"/cgi-bin/tags/members/{path}", {"openid_list": openids, "tagid": tag.wechat_id})
    ids = [fan_ids[o] for o in openids]
    with transaction.atomic():
        if kind == TagJobKind.TAG:
            live = _following(ids)
            FanTag.objects.bulk_create([FanTag(fan_id=i, tag=tag) for i in live], ignore_conflicts=True)
        else:
            FanTag.objects.filter(tag=tag, fan_id__in=ids).delete()
        # Counted again rather than adjusted, so a count once wrong heals; only following fans carry tags.
        members = FanTag.objects.filter(tag=tag).count()
        Tag.objects.filter(pk=tag.pk).update(fan_count=members, updated_at=_now())
        if job is not None:
            job.done += advance
            job.heartbeat_at = _now()
            job.save(update_fields=["done", "heartbeat_at"])


def run_job(job: TagJob) -> TagJob:
    """Run or resume a job from its checkpoint; a failure is recorded on the job and re-raised."""
    if job.is_over:
        return job
    job.status, job.heartbeat_at, job.error = TagJobStatus.RUNNING, _now(), ""
    job.save(update_fields=["status", "heartbeat_at", "error"])
    try:
        if job.kind == TagJobKind.PULL:

            def progress(done: int, total: int) -> None:
                TagJob.objects.filter(pk=job.pk).update(done=done, total=total, heartbeat_at=_now())

            job.result = pull(job.account, on_progress=progress)
            job.refresh_from_db(fields=["done", "total"])
        else:
            _run_members(job)
    except Exception as exc:
        job.status, job.error = TagJobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = _now()
        job.save(update_fields=["status", "error", "finished_at"])
        log.warning("tag job %s of %s failed: %s", job.pk, job.account.appid, job.error)
        raise
    job.status, job.finished_at = TagJobStatus.DONE, _now()
    job.save(update_fields=["status", "finished_at", "result"])
    return job


def _run_members(job: TagJob) -> None:
    tag = job.tag
    if tag is None:
        raise ValueError("the tag was deleted while the job waited")
    remaining = list(job.openids)[job.done :]
    with client_for(job.account) as client:
        for start in range(0, len(remaining), MEMBERS_PER_CALL):
            batch = remaining[start : start + MEMBERS_PER_CALL]
            # Fans who unfollowed since the job was queued are skipped rather than failing the job.
            fan_ids = dict(
                Fan.objects.filter(account=job.account, openid__in=batch, is_following=True).values_list(
                    "openid", "id"
                )
            )
            present = [o for o in batch if o in fan_ids]
            if present:
                apply_batch(client, tag, job.kind, present, fan_ids, job=job, advance=len(batch))
            else:
                job.done += len(batch)
                job.heartbeat_at = _now()
                job.save(update_fields=["done", "heartbeat_at"])


def pull(account: OfficialAccount, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Make our tags and memberships equal WeChat's: tags/get, then user/tag/get for every tag."""
    with client_for(account) as client:
        remote = client.get("/cgi-bin/tags/get")
        tags = {int(t["id"]): t for t in remote.get("tags", [])}
        with transaction.atomic():
            gone = Tag.objects.filter(account=account).exclude(wechat_id__in=list(tags))
            removed = gone.count()
            gone.delete()
            local = {t.wechat_id: t for t in Tag.objects.filter(account=account)}
            # Free names first, so a rename that swaps two names cannot collide on the unique name.
            for wechat_id, known in local.items():
                if known.name != tags[wechat_id]["name"]:
                    known.name = f"~{wechat_id}~"
                    known.save(update_fields=["name"])
            for wechat_id, data in tags.items():
                existing = local.get(wechat_id)
                if existing is None:
                    local[wechat_id] = Tag.objects.create(
                        account=account, wechat_id=wechat_id, name=data["name"]
                    )
                elif existing.name != data["name"]:
                    existing.name = data["name"]
                    existing.save(update_fields=["name", "updated_at"])
        links, unknown = 0, 0
        for done, (wechat_id, tag) in enumerate(sorted(local.items()), start=1):
            members: list[str] = []
            for page in tag_members(client, wechat_id):
                members.extend(page)
            found, missing = _replace_members(account, tag, members)
            links += found
            unknown += missing
            if on_progress is not None:
                on_progress(done, len(local))
    return {"tags": len(local), "removed_tags": removed, "links": links, "unknown_fans": unknown}


@transaction.atomic
def _replace_members(account: OfficialAccount, tag: Tag, openids: list[str]) -> tuple[int, int]:
    """Our memberships of one tag become exactly WeChat's. Followers Liucun does not know yet are counted,
    not created: a follower sync brings them in."""
    ids: set[int] = set()
    ordered = sorted(openids)  # row locks in one openid order across chunks too
    for start in range(0, len(ordered), 5000):
        # Only fans we know as following: WeChat lists only followers, and one we saw unfollow since the
        # page was read has lost the tag already. Locked, as in apply_batch, against a concurrent unfollow.
        ids.update(
            Fan.objects.select_for_update(no_key=True)
            .filter(account=account, openid__in=ordered[start : start + 5000], is_following=True)
            .order_by("openid")
            .values_list("id", flat=True)
        )
    current = set(FanTag.objects.filter(tag=tag).values_list("fan_id", flat=True))
    FanTag.objects.filter(tag=tag, fan_id__in=list(current - ids)).delete()
    FanTag.objects.bulk_create([FanTag(fan_id=i, tag=tag) for i in ids - current], ignore_conflicts=True)
    Tag.objects.filter(pk=tag.pk).update(fan_count=len(openids), synced_at=datetime.now(UTC))
    return len(ids), len(openids) - len(ids)
