"""The work behind tag jobs: batches of members with checkpoints, and the pull from WeChat."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans import queries
from liucun.fans.filters import FanFilter
from liucun.fans.models import Fan
from liucun.jobs import claims
from liucun.tags.models import FanTag, Tag, TagJob, TagJobKind
from liucun.tags.wechat import MEMBERS_PER_CALL, wechat_refusal
from liucun.wechat.api import tags as wechat_tags
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
    last_fan_id: int | None = None,
) -> None:
    """One WeChat call (at most 50 fans), then our copy and the job's checkpoint in one transaction."""
    change = wechat_tags.tag_fans if kind == TagJobKind.TAG else wechat_tags.untag_fans
    with wechat_refusal():
        change(client, tag.wechat_id, openids)
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
            _checkpoint(job, advance, last_fan_id)


def _checkpoint(job: TagJob, advance: int, last_fan_id: int | None = None) -> None:
    """Move the checkpoint past a batch: Superseded if another run took the job over meanwhile."""
    progress: dict[str, Any] = {"done": job.done + advance}
    if last_fan_id is not None:
        progress.update(last_fan_id=last_fan_id, result=job.result)
    claims.beat(job, **progress)


def run_job(job: TagJob) -> TagJob:
    """Run or resume a job from its checkpoint; a failure is recorded on the job and re-raised."""
    if job.is_over:
        return job
    claims.take(job)
    try:
        if job.kind == TagJobKind.PULL:

            def progress(done: int, total: int) -> None:
                claims.beat(job, done=done, total=total)

            claims.finish(job, result=pull(job.account, on_progress=progress))
        else:
            _run_members(job)
            claims.finish(job)
    except claims.Superseded:
        log.warning("tag job %s of %s was taken over by a newer run", job.pk, job.account.appid)
        raise
    except Exception as exc:
        claims.fail(job, exc)
        log.warning("tag job %s of %s failed: %s", job.pk, job.account.appid, job.error)
        raise
    return job


def _run_members(job: TagJob) -> None:
    tag = job.tag
    if tag is None:
        raise ValueError("the tag was deleted while the job waited")
    if job.fan_filter is not None:
        _run_filter(job, tag)
        return
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
                with transaction.atomic():
                    _checkpoint(job, len(batch))


def matching_fans(account: OfficialAccount, fan_filter: FanFilter) -> QuerySet[Fan]:
    """The fans a filter job walks: following ones only (only they can carry a tag in WeChat)."""
    return queries.fans(account, fan_filter).filter(is_following=True)


def _run_filter(job: TagJob, tag: Tag) -> None:
    """Every following fan matching the stored filter, in id order from the checkpoint, 50 a call.

    The filter is evaluated again for each batch, so a fan who starts or stops matching while the job
    runs is taken or left as the filter says at that moment. A fan who already has 20 tags is skipped
    (WeChat would refuse the whole call for them) and counted in `result["skipped_full"]`.
    """
    fans = matching_fans(job.account, FanFilter.from_json(job.fan_filter or {}))
    with client_for(job.account) as client:
        while True:
            rows = list(
                fans.filter(pk__gt=job.last_fan_id)
                .order_by("pk")
                .values_list("pk", "openid")[:MEMBERS_PER_CALL]
            )
            if not rows:
                return
            fan_ids = {openid: pk for pk, openid in rows}
            full = _full(tag, list(fan_ids.values())) if job.kind == TagJobKind.TAG else set()
            present = [openid for openid, pk in fan_ids.items() if pk not in full]
            if full:
                job.result = {**job.result, "skipped_full": job.result.get("skipped_full", 0) + len(full)}
            last = rows[-1][0]
            if present:
                apply_batch(
                    client, tag, job.kind, present, fan_ids, job=job, advance=len(rows), last_fan_id=last
                )
            else:
                with transaction.atomic():
                    _checkpoint(job, len(rows), last)


def _full(tag: Tag, fan_ids: list[int]) -> set[int]:
    """Those of the fans who carry 20 tags, this one not among them: WeChat's limit."""
    from liucun.tags.actions import MAX_TAGS_PER_FAN

    return set(
        Fan.objects.filter(pk__in=fan_ids)
        .exclude(fantags__tag=tag)
        .annotate(n=Count("fantags"))
        .filter(n__gte=MAX_TAGS_PER_FAN)
        .values_list("pk", flat=True)
    )


def pull(account: OfficialAccount, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Make our tags and memberships equal WeChat's: tags/get, then user/tag/get for every tag."""
    with client_for(account) as client:
        with wechat_refusal():
            remote = wechat_tags.all_tags(client)
        tags = {t.id: t for t in remote}
        with transaction.atomic():
            gone = Tag.objects.filter(account=account).exclude(wechat_id__in=list(tags))
            removed = gone.count()
            gone.delete()
            local = {t.wechat_id: t for t in Tag.objects.filter(account=account)}
            # Free names first, so a rename that swaps two names cannot collide on the unique name.
            for wechat_id, known in local.items():
                if known.name != tags[wechat_id].name:
                    known.name = f"~{wechat_id}~"
                    known.save(update_fields=["name"])
            for wechat_id, data in tags.items():
                existing = local.get(wechat_id)
                if existing is None:
                    local[wechat_id] = Tag.objects.create(
                        account=account, wechat_id=wechat_id, name=data.name
                    )
                elif existing.name != data.name:
                    existing.name = data.name
                    existing.save(update_fields=["name", "updated_at"])
        links, unknown = 0, 0
        for done, (wechat_id, tag) in enumerate(sorted(local.items()), start=1):
            members: list[str] = []
            with wechat_refusal():
                for page in wechat_tags.all_members(client, wechat_id):
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
