"""The blacklist: read WeChat's list into our copy, and add or remove fans (WeChat first)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.staff.audit import record
from liucun.tags.models import BlacklistEntry
from liucun.tags.wechat import BLACKLIST_PER_CALL, unique_openids, wechat_refusal
from liucun.wechat.api import tags as wechat_tags

Actor = AbstractBaseUser | str
CHUNK = 5000


def sync_blacklist(actor: Actor, account: OfficialAccount) -> int:
    """Our copy becomes WeChat's list. Returns how many are blacklisted."""
    with client_for(account) as client:
        listed: list[str] = []
        with wechat_refusal():
            for page in wechat_tags.whole_blacklist(client):
                listed.extend(page)
    with transaction.atomic():
        # In chunks: a long blacklist would pass SQLite's limit on the parameters of one statement.
        current = set(BlacklistEntry.objects.filter(account=account).values_list("openid", flat=True))
        gone = sorted(current - set(listed))
        for start in range(0, max(len(gone), len(listed)), CHUNK):
            BlacklistEntry.objects.filter(account=account, openid__in=gone[start : start + CHUNK]).delete()
            _add(account, listed[start : start + CHUNK])
        record(actor, "tags.sync_blacklist", account=account, changes={"blacklisted": len(listed)})
    return len(listed)


def _add(account: OfficialAccount, openids: list[str]) -> None:
    fans = dict(Fan.objects.filter(account=account, openid__in=openids).values_list("openid", "id"))
    BlacklistEntry.objects.bulk_create(
        [BlacklistEntry(account=account, openid=o, fan_id=fans.get(o)) for o in openids],
        ignore_conflicts=True,
    )


def blacklist_fans(actor: Actor, account: OfficialAccount, openids: list[str]) -> int:
    return _change(actor, account, openids, blacklist=True)


def unblacklist_fans(actor: Actor, account: OfficialAccount, openids: list[str]) -> int:
    return _change(actor, account, openids, blacklist=False)


def _change(actor: Actor, account: OfficialAccount, openids: list[str], *, blacklist: bool) -> int:
    """WeChat first, 20 a call; each call's result is stored and audited in its own transaction."""
    unique = unique_openids(openids)
    change = wechat_tags.add_to_blacklist if blacklist else wechat_tags.remove_from_blacklist
    with client_for(account) as client:
        for start in range(0, len(unique), BLACKLIST_PER_CALL):
            batch = unique[start : start + BLACKLIST_PER_CALL]
            with wechat_refusal():
                change(client, batch)
            with transaction.atomic():
                if blacklist:
                    _add(account, batch)
                else:
                    BlacklistEntry.objects.filter(account=account, openid__in=batch).delete()
                action = "tags.blacklist" if blacklist else "tags.unblacklist"
                record(actor, action, account=account, changes={"openids": batch})
    return len(unique)
