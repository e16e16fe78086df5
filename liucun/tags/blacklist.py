"""The blacklist: read WeChat's list into our copy, and add or remove fans (WeChat first)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.staff.audit import record
from liucun.tags.models import BlacklistEntry
from liucun.tags.wechat import BLACKLIST_PER_CALL, TagError, blacklist_pages, call

Actor = AbstractBaseUser | str


def sync_blacklist(actor: Actor, account: OfficialAccount) -> int:
    """Our copy becomes WeChat's list. Returns how many are blacklisted."""
    with client_for(account) as client:
        listed: list[str] = []
        for page in blacklist_pages(client):
            listed.extend(page)
    with transaction.atomic():
        BlacklistEntry.objects.filter(account=account).exclude(openid__in=listed).delete()
        _add(account, listed)
        record(actor, "tags.sync_blacklist", account=account, changes={"blacklisted": len(listed)})
    return len(listed)


def _add(account: OfficialAccount, openids: list[str]) -> None:
    fans = dict(Fan.objects.filter(account=account, openid__in=openids).values_list("openid", "id"))
    BlacklistEntry.objects.bulk_create(
        [BlacklistEntry(account=account, openid=o, fan_id=fans.get(o)) for o in openids],
        ignore_conflicts=True,
    )


def _clean(openids: list[str]) -> list[str]:
    unique = list(dict.fromkeys(o.strip() for o in openids if o and o.strip()))
    if not unique:
        raise TagError("no fans given")
    return unique


def blacklist_fans(actor: Actor, account: OfficialAccount, openids: list[str]) -> int:
    unique = _clean(openids)
    with client_for(account) as client:
        for start in range(0, len(unique), BLACKLIST_PER_CALL):
            batch = unique[start : start + BLACKLIST_PER_CALL]
            call(client, "/cgi-bin/tags/members/batchblacklist", {"openid_list": batch})
            with transaction.atomic():
                _add(account, batch)
                record(actor, "tags.blacklist", account=account, changes={"openids": batch})
    return len(unique)


def unblacklist_fans(actor: Actor, account: OfficialAccount, openids: list[str]) -> int:
    unique = _clean(openids)
    with client_for(account) as client:
        for start in range(0, len(unique), BLACKLIST_PER_CALL):
            batch = unique[start : start + BLACKLIST_PER_CALL]
            call(client, "/cgi-bin/tags/members/batchunblacklist", {"openid_list": batch})
            with transaction.atomic():
                BlacklistEntry.objects.filter(account=account, openid__in=batch).delete()
                record(actor, "tags.unblacklist", account=account, changes={"openids": batch})
    return len(unique)
