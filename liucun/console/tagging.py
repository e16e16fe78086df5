"""Tag lookups the console's fan pages need (the tags app owns the data)."""

from __future__ import annotations

from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan


def tag_choices(account: OfficialAccount) -> list[tuple[int, str]]:
    from liucun.tags.models import Tag

    return list(Tag.objects.filter(account=account).order_by("name").values_list("pk", "name"))


def tags_of(fan: Fan) -> list[Any]:
    from liucun.tags.models import Tag

    return list(Tag.objects.filter(fantags__fan=fan).order_by("name"))
