"""Making and checking REST API tokens, and the principal a request acts as."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.staff.audit import record
from liucun.staff.models import ROLE_RANK, ApiToken, Role
from liucun.staff.permissions import role_on
from liucun.staff.refusals import StaffRefused

KEY_PREFIX = "lc_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    user: Any, name: str, *, max_role: Role = Role.AGENT, accounts: Iterable[OfficialAccount] = ()
) -> tuple[ApiToken, str]:
    """The token and its key. The key is not stored and cannot be shown again.

    A token can only narrow what its user may do: `accounts` must be among the user's own."""
    accounts = list(accounts)
    foreign = [a.appid for a in accounts if role_on(user, a) is None]
    if foreign:
        raise StaffRefused(
            _("A token can only be limited to accounts you hold a role on."), code="token_scope"
        )
    name = name.strip()
    if not name or len(name) > 80:
        raise StaffRefused(_("Give the token a name of 1 to 80 characters."), code="token_name")
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=_hash(key), max_role=max_role
    )
    token.accounts.set(accounts)
    record(user, "staff.create_api_token", target=f"{name} ({prefix})", changes={"max_role": max_role.value})
    return token, key


@transaction.atomic
def revoke_api_token(user: Any, prefix: str) -> bool:
    """Revoke one of the user's own tokens; it stops working at once. False if there is none to revoke."""
    token = ApiToken.objects.filter(user=user, prefix=prefix, revoked_at__isnull=True).first()
    if token is None:
        return False
    token.revoked_at = datetime.now(UTC)
    token.save(update_fields=["revoked_at"])
    record(user, "staff.revoke_api_token", target=f"{token.name} ({prefix})")
    return True


def tokens_of(user: Any) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).prefetch_related("accounts").order_by("-created_at"))


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user, possibly through a token that narrows what the user may do."""

    user: Any
    token: ApiToken | None = None

    @property
    def label(self) -> str:
        return f"api-token:{self.token.prefix}" if self.token else str(self.user.get_username())

    def role(self, account: OfficialAccount) -> Role | None:
        role = role_on(self.user, account)
        if role is None or self.token is None:
            return role
        if self.token.accounts.exists() and not self.token.accounts.filter(pk=account.pk).exists():
            return None
        cap = Role(self.token.max_role)
        return role if ROLE_RANK[role] <= ROLE_RANK[cap] else cap


def authenticate_key(key: str) -> Principal | None:
    if not key.startswith(KEY_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=_hash(key), revoked_at__isnull=True).first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=datetime.now(UTC))
    return Principal(token.user, token)
