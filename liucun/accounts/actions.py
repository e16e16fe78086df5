"""Named write operations on official accounts. Each runs in one transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from liucun.accounts.models import AccessToken, EncryptionMode, OfficialAccount
from liucun.staff.audit import record

EDITABLE_FIELDS = (
    "original_id",
    "name",
    "account_type",
    "verified",
    "token",
    "encoding_aes_key",
    "secret",
    "encryption_mode",
    "api_base_url",
    "welcome_text",
    "is_active",
    "sync_every_hours",
    "privacy_on_unfollow",
)


def _check_mode_has_key(account: OfficialAccount) -> None:
    if account.encryption_mode != EncryptionMode.PLAINTEXT and not account.encoding_aes_key:
        raise ValidationError(
            {"encoding_aes_key": "compatible and safe mode need the account's EncodingAESKey"}
        )


@transaction.atomic
def create_account(*, appid: str, actor: AbstractBaseUser | str = "cli", **fields: Any) -> OfficialAccount:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown account fields: {', '.join(sorted(unknown))}")
    account = OfficialAccount(appid=appid, **fields)
    account.full_clean()
    _check_mode_has_key(account)
    account.save()
    AccessToken.objects.create(account=account)
    record(actor, "accounts.create", account=account, target=appid, changes=fields)
    return account


@transaction.atomic
def update_account(
    account: OfficialAccount, *, actor: AbstractBaseUser | str = "cli", **changes: Any
) -> OfficialAccount:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown account fields: {', '.join(sorted(unknown))}")
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    before = {name: getattr(account, name) for name in changes}
    for name, value in changes.items():
        setattr(account, name, value)
    account.full_clean()
    _check_mode_has_key(account)
    account.save()
    diff = {name: [before[name], getattr(account, name)] for name in changes if before[name] != changes[name]}
    record(actor, "accounts.update", account=account, target=account.appid, changes=diff)
    if {"secret", "api_base_url"} & set(changes):
        # A token fetched with the old secret or from another host must not be used again.
        AccessToken.objects.filter(account=account).update(
            token="", expires_at=None, generation=F("generation") + 1
        )
    return account
