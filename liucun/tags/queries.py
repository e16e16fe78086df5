"""Read-side questions about tags and the blacklist (no writes here)."""

from __future__ import annotations

from django.db.models import QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.tags.models import BlacklistEntry, Tag


def tags_with_counts(account: OfficialAccount) -> QuerySet[Tag]:
    return Tag.objects.filter(account=account).order_by("wechat_id")


def tags_of(fan: Fan) -> QuerySet[Tag]:
    return Tag.objects.filter(fantags__fan=fan).order_by("name")


def blacklist(account: OfficialAccount) -> QuerySet[BlacklistEntry]:
    return BlacklistEntry.objects.filter(account=account).order_by("-since", "openid")
