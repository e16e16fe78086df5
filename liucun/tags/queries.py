"""Read-side questions about tags and the blacklist (no writes here)."""

from __future__ import annotations

from django.db.models import QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.tags.models import BlacklistEntry, Tag

TAG_ORDERINGS = ("wechat_id", "-wechat_id", "name", "-name", "fan_count", "-fan_count")
BLACKLIST_ORDERINGS = ("-since", "since", "openid", "-openid")


def tags_with_counts(account: OfficialAccount, ordering: str = "wechat_id", name: str = "") -> QuerySet[Tag]:
    """The account's tags (at most 100, WeChat's limit), optionally those whose name contains `name`."""
    tags = Tag.objects.filter(account=account)
    if name:
        tags = tags.filter(name__contains=name)
    return tags.order_by(ordering if ordering in TAG_ORDERINGS else "wechat_id", "pk")


def tag_choices(account: OfficialAccount) -> list[tuple[int, str]]:
    """(pk, name) of the account's tags, by name: the options of a tag filter or picker."""
    return list(Tag.objects.filter(account=account).order_by("name").values_list("pk", "name"))


def tags_of(fan: Fan) -> QuerySet[Tag]:
    return Tag.objects.filter(fantags__fan=fan).order_by("name")


def blacklist(
    account: OfficialAccount, ordering: str = "-since", openid: str = ""
) -> QuerySet[BlacklistEntry]:
    entries = BlacklistEntry.objects.filter(account=account)
    if openid:
        entries = entries.filter(openid__startswith=openid)
    return entries.order_by(ordering if ordering in BLACKLIST_ORDERINGS else "-since", "openid")
