"""Account scoping for every API endpoint: an account the caller may not see does not exist (404)."""

from __future__ import annotations

from typing import Any

from ninja.errors import HttpError

from liucun.accounts.models import OfficialAccount
from liucun.staff.api_tokens import Principal
from liucun.staff.models import ROLE_RANK, Role


def principal(request: Any) -> Principal:
    auth = request.auth
    return auth if isinstance(auth, Principal) else Principal(auth)


def account_for(request: Any, appid: str, minimum: Role) -> OfficialAccount:
    """The account if the caller holds `minimum` on it: 404 if they hold nothing, 403 if too little."""
    account = OfficialAccount.objects.filter(appid=appid).first()
    role = principal(request).role(account) if account is not None else None
    if account is None or role is None:
        raise HttpError(404, "no such account")
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise HttpError(403, f"needs the {minimum.value} role on this account")
    return account
