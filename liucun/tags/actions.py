"""Named writes on tags: WeChat first, then our copy in one transaction with its audit entry.

A WeChat call cannot join our transaction; if the process dies between the two, the next pull (which
rebuilds the copy from WeChat) repairs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.filters import FanFilter
from liucun.fans.models import Fan
from liucun.jobs import claims
from liucun.staff.audit import actor_label, record
from liucun.tags.models import Tag, TagJob, TagJobKind, TagJobStatus
from liucun.tags.wechat import MEMBERS_PER_CALL, TagError, unique_openids, wechat_refusal
from liucun.wechat.api import tags as wechat_tags

__all__ = ["MAX_TAGS_PER_ACCOUNT", "MAX_TAGS_PER_FAN", "TagError"]

Actor = AbstractBaseUser | str
MAX_TAGS_PER_ACCOUNT = 100
MAX_TAGS_PER_FAN = 20
NAME_MAX_BYTES = 30
# Up to this many fans are tagged while the operator waits (one WeChat call); more become a TagJob.
INLINE_LIMIT = MEMBERS_PER_CALL


def _now() -> datetime:
    return datetime.now(UTC)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise TagError(_("A tag needs a name."))
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        raise TagError(_("The name is longer than 30 bytes (10 Chinese characters), WeChat's limit."))
    return name


def _tag(account: OfficialAccount, tag_id: int) -> Tag:
    tag = Tag.objects.filter(account=account, pk=tag_id).first()
    if tag is None:
        raise TagError(_("No such tag on this account."))
    return tag


def _editable(tag: Tag) -> Tag:
    if tag.is_system:
        raise TagError(_("WeChat's own tags (0, 1, 2) cannot be changed."))
    return tag


def create_tag(actor: Actor, account: OfficialAccount, name: str) -> Tag:
    name = _clean_name(name)
    if Tag.objects.filter(account=account).exclude(wechat_id__in=[0, 1, 2]).count() >= MAX_TAGS_PER_ACCOUNT:
        raise TagError(_("The account already has 100 tags, WeChat's limit; delete one first."))
    if Tag.objects.filter(account=account, name=name).exists():
        raise TagError(_("A tag with this name already exists."))
    with client_for(account) as client, wechat_refusal():
        made = wechat_tags.create(client, name)
    with transaction.atomic():
        tag = Tag.objects.create(account=account, wechat_id=made.id, name=name, synced_at=_now())
        record(actor, "tags.create", account=account, target=name, changes={"wechat_id": tag.wechat_id})
    return tag


def rename_tag(actor: Actor, account: OfficialAccount, tag_id: int, name: str) -> Tag:
    tag = _editable(_tag(account, tag_id))
    name = _clean_name(name)
    if name == tag.name:
        return tag
    if Tag.objects.filter(account=account, name=name).exclude(pk=tag.pk).exists():
        raise TagError(_("A tag with this name already exists."))
    with client_for(account) as client, wechat_refusal():
        wechat_tags.rename(client, tag.wechat_id, name)
    with transaction.atomic():
        before, tag.name = tag.name, name
        tag.save(update_fields=["name", "updated_at"])
        record(actor, "tags.rename", account=account, target=name, changes={"name": [before, name]})
    return tag


def delete_tag(actor: Actor, account: OfficialAccount, tag_id: int) -> None:
    tag = _editable(_tag(account, tag_id))
    with client_for(account) as client, wechat_refusal():
        wechat_tags.delete(client, tag.wechat_id)
    with transaction.atomic():
        record(actor, "tags.delete", account=account, target=tag.name, changes={"wechat_id": tag.wechat_id})
        tag.delete()


def _fans(account: OfficialAccount, openids: list[str]) -> dict[str, int]:
    unique = unique_openids(openids)
    found: dict[str, int] = {}
    for start in range(0, len(unique), 5000):
        chunk = unique[start : start + 5000]
        found.update(
            Fan.objects.filter(account=account, openid__in=chunk, is_following=True).values_list(
                "openid", "id"
            )
        )
    missing = [o for o in unique if o not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise TagError(
            _("%(count)d of these are not following fans of this account: %(openids)s"),
            {"count": len(missing), "openids": shown},
        )
    return {o: found[o] for o in unique}


def _check_room(tag: Tag, fan_ids: dict[str, int]) -> None:
    """Refuse before calling WeChat when a fan would pass 20 tags, naming who."""
    full: list[str] = []
    by_id = {v: k for k, v in fan_ids.items()}
    ids = list(by_id)
    for start in range(0, len(ids), 5000):
        rows = (
            Fan.objects.filter(pk__in=ids[start : start + 5000])
            .exclude(fantags__tag=tag)
            .annotate(n=Count("fantags"))
            .filter(n__gte=MAX_TAGS_PER_FAN)
            .values_list("pk", flat=True)
        )
        full.extend(by_id[pk] for pk in rows)
    if full:
        shown = ", ".join(full[:5]) + (" …" if len(full) > 5 else "")
        raise TagError(
            _("%(count)d fans already have 20 tags, WeChat's limit: %(openids)s"),
            {"count": len(full), "openids": shown},
        )


def tag_fans(actor: Actor, account: OfficialAccount, tag_id: int, openids: list[str]) -> int | TagJob:
    """Tag fans: inline for one WeChat call's worth, else a TagJob. Returns the count or the job."""
    return _change_members(actor, account, tag_id, openids, TagJobKind.TAG)


def untag_fans(actor: Actor, account: OfficialAccount, tag_id: int, openids: list[str]) -> int | TagJob:
    return _change_members(actor, account, tag_id, openids, TagJobKind.UNTAG)


def _change_members(
    actor: Actor, account: OfficialAccount, tag_id: int, openids: list[str], kind: TagJobKind
) -> int | TagJob:
    from liucun.tags.jobs import apply_batch

    tag = _editable(_tag(account, tag_id))
    fan_ids = _fans(account, openids)
    if kind == TagJobKind.TAG:
        _check_room(tag, fan_ids)
    if len(fan_ids) <= INLINE_LIMIT:
        with client_for(account) as client:
            apply_batch(client, tag, kind, list(fan_ids), fan_ids)
        record(
            actor, f"tags.{kind.value}_fans", account=account, target=tag.name, changes={"fans": len(fan_ids)}
        )
        return len(fan_ids)
    return _queue(actor, account, tag, kind, total=len(fan_ids), openids=list(fan_ids))


def tag_fans_matching(
    actor: Actor, account: OfficialAccount, tag_id: int, fan_filter: FanFilter
) -> int | TagJob:
    """Tag every following fan matching the filter: inline for one WeChat call's worth, else a TagJob that
    stores the filter (never its openids) and walks the matching fans from a checkpoint."""
    return _change_matching(actor, account, tag_id, fan_filter, TagJobKind.TAG)


def untag_fans_matching(
    actor: Actor, account: OfficialAccount, tag_id: int, fan_filter: FanFilter
) -> int | TagJob:
    return _change_matching(actor, account, tag_id, fan_filter, TagJobKind.UNTAG)


def _change_matching(
    actor: Actor, account: OfficialAccount, tag_id: int, fan_filter: FanFilter, kind: TagJobKind
) -> int | TagJob:
    from liucun.tags.jobs import matching_fans

    tag = _editable(_tag(account, tag_id))
    fans = matching_fans(account, fan_filter)
    few = list(fans.order_by("pk").values_list("openid", flat=True)[: INLINE_LIMIT + 1])
    if not few:
        raise TagError(_("No following fan matches this filter."))
    if len(few) <= INLINE_LIMIT:
        return _change_members(actor, account, tag.pk, few, kind)
    return _queue(actor, account, tag, kind, total=fans.count(), fan_filter=fan_filter.to_json())


@transaction.atomic
def _queue(
    actor: Actor, account: OfficialAccount, tag: Tag, kind: TagJobKind, *, total: int, **what: Any
) -> TagJob:
    """A TagJob for the fans `what` names (an openid list or a stored filter), audited, its task
    enqueued in the same transaction."""
    job = TagJob.objects.create(
        account=account, kind=kind, tag=tag, total=total, requested_by=actor_label(actor), **what
    )
    changes: dict[str, Any] = {"job": job.pk, "fans": job.total}
    if job.fan_filter:
        changes["filter"] = job.fan_filter
    record(actor, f"tags.{kind.value}_fans", account=account, target=tag.name, changes=changes)
    claims.enqueue(job)
    return job


def start_pull_tags(actor: Actor, account: OfficialAccount) -> TagJob:
    with transaction.atomic():
        active = TagJob.objects.filter(
            account=account, kind=TagJobKind.PULL, status__in=[TagJobStatus.QUEUED, TagJobStatus.RUNNING]
        ).first()
        if active is not None:
            return active
        job = TagJob.objects.create(account=account, kind=TagJobKind.PULL, requested_by=actor_label(actor))
        record(actor, "tags.pull", account=account, target=f"job {job.pk}")
        claims.enqueue(job)
    return job


def resume_tag_job(actor: Actor, account: OfficialAccount, job_id: int) -> TagJob:
    """Queue a failed tag job again; it goes on after its last finished batch. NotResumable otherwise."""
    from liucun.jobs.actions import resume_failed_job

    return resume_failed_job(actor, TagJob, account, job_id, audit_action="tags.resume_job")


def pull_tags(actor: Actor, account: OfficialAccount) -> dict[str, Any]:
    """Rebuild the copy of tags and memberships from WeChat, now (the job runs this too)."""
    from liucun.tags.jobs import pull

    result = pull(account)
    record(actor, "tags.pull", account=account, changes=result)
    return result


from liucun.tags.blacklist import blacklist_fans, sync_blacklist, unblacklist_fans  # noqa: E402

__all__ += ["blacklist_fans", "sync_blacklist", "unblacklist_fans"]
