"""Named writes on one fan: the remark (synced to WeChat) and custom attributes. Each is audited.

Both refuse to store personal data on a fan who left an account that erases on unfollow: the erasure
already ran for them and would not run again until they follow and leave once more. A fan who came back
after an erasure is edited like any other; the policy erases again when they next leave.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount, PrivacyOnUnfollow
from liucun.accounts.wechat_api import client_for
from liucun.crm import rules
from liucun.fans.models import Fan
from liucun.refusals import Refused
from liucun.staff.audit import record
from liucun.wechat.api import users
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat_refusals import WeChatRefused

Actor = AbstractBaseUser | str


class CrmRefused(Refused):
    """A remark or attribute change refused by CRM's rules (every problem listed); nothing was stored."""

    code = "crm.invalid"


class FanNotFound(Refused):
    code = "crm.no_such_fan"
    status = 404

    def __init__(self, openid: str) -> None:
        super().__init__(_("No fan %(openid)s in this account."), {"openid": openid})


class RemarkNotSynced(WeChatRefused):
    """WeChat refused or could not take the remark; nothing was stored. `retryable`: try later."""

    def __init__(self, exc: WeChatAPIError) -> None:
        super().__init__(exc, what=_("The remark was not saved"))


def set_remark(actor: Actor, account: OfficialAccount, openid: str, remark: str) -> Fan:
    """Set the fan's remark (备注) in WeChat first, then here. "" clears it."""
    try:
        cleaned = rules.check_remark(remark)
    except rules.RuleError as exc:
        raise CrmRefused(str(exc)) from None
    fan = Fan.objects.filter(account=account, openid=openid).first()
    if fan is None:
        raise FanNotFound(openid)
    if cleaned:
        _may_hold_personal_data(account, fan)
    if not account.capabilities.user_management:
        raise CrmRefused(_("Remarks need a verified account: WeChat's user management API is closed to it."))
    client = client_for(account)
    try:
        # Outside any transaction: a slow WeChat must not hold the database's write lock.
        users.set_remark(client, openid, cleaned)
    except WeChatAPIError as exc:
        raise RemarkNotSynced(exc) from exc
    finally:
        client.close()
    with transaction.atomic():
        fan = Fan.objects.select_for_update().get(pk=fan.pk)
        before = fan.remark
        fan.remark = cleaned
        fan.save(update_fields=["remark", "updated_at"])
        record(
            actor,
            "crm.set_remark",
            account=account,
            target=openid,
            changes={"before": {"remark": before}, "after": {"remark": cleaned}},
        )
    return fan


def set_attributes(
    actor: Actor, account: OfficialAccount, openid: str, changes: dict[str, str | None]
) -> Fan:
    """Set (a value) or remove (None or "") custom attributes. CrmRefused lists every problem."""
    cleaned = _clean_changes(changes)
    with transaction.atomic():
        fan = Fan.objects.select_for_update().filter(account=account, openid=openid).first()
        if fan is None:
            raise FanNotFound(openid)
        if any(cleaned.values()):
            _may_hold_personal_data(account, fan)
        before: dict[str, Any] = dict(fan.attributes) if isinstance(fan.attributes, dict) else {}
        try:
            after = rules.apply_changes(before, cleaned)
        except rules.RuleError as exc:
            raise CrmRefused(str(exc)) from None
        if after == before:
            return fan
        fan.attributes = after
        fan.save(update_fields=["attributes", "updated_at"])
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        record(
            actor,
            "crm.set_attributes",
            account=account,
            target=openid,
            changes={
                "before": {k: before.get(k) for k in changed},
                "after": {k: after.get(k) for k in changed},
            },
        )
    return fan


def _clean_changes(changes: Any) -> dict[str, str | None]:
    if not isinstance(changes, dict) or not changes:
        raise CrmRefused(_("Name at least one attribute to set or remove."))
    cleaned: dict[str, str | None] = {}
    problems: list[str] = []
    for key, value in changes.items():
        try:
            rules.check_key(key)
        except rules.RuleError as exc:
            problems.append(str(exc))
            continue
        try:
            cleaned[key] = None if value is None else (rules.clean_value(key, value) or None)
        except rules.RuleError as exc:
            problems.append(f"{key}: {exc}")
    if problems:
        raise CrmRefused(problems)
    return cleaned


def _may_hold_personal_data(account: OfficialAccount, fan: Fan) -> None:
    if account.privacy_on_unfollow == PrivacyOnUnfollow.ERASE and not fan.is_following:
        raise CrmRefused(
            _(
                "This fan has unfollowed, and the account erases personal data on unfollow: nothing new "
                "is stored about them."
            )
        )
