"""Named writes on staff roles. Each runs in one transaction and is audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.staff.audit import record
from liucun.staff.models import Membership, Role
from liucun.staff.permissions import accounts_visible_to, require_role
from liucun.staff.refusals import NO_SUCH_COLLEAGUE, StaffRefused


def colleague(actor: AbstractBaseUser, username: str) -> Any:
    """The user with this username, if the actor works with them: staff of an account the actor
    administers (any user, for a superuser). Everyone else is "not found", so usernames of other
    companies on the same instance cannot be probed or given roles."""
    users = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username.strip()})
    if not getattr(actor, "is_superuser", False):
        administered = accounts_visible_to(actor, Role.ADMIN)
        users = users.filter(memberships__account__in=administered).distinct()
    user = users.first()
    if user is None:
        raise StaffRefused(NO_SUCH_COLLEAGUE, code="no_such_colleague", status=404)
    return user


@transaction.atomic
def grant_role(
    actor: AbstractBaseUser, user: AbstractBaseUser, account: OfficialAccount, role: Role
) -> Membership:
    require_role(actor, account, Role.ADMIN)
    colleague(actor, user.get_username())
    return assign_role(actor, user, account, role)


@transaction.atomic
def assign_role(actor: AbstractBaseUser | str, user: Any, account: OfficialAccount, role: Role) -> Membership:
    """Give `user` the role, without asking whether `actor` may: for the instance's operator (the CLI)
    and for checks already made by the caller (grant_role)."""
    membership, created = Membership.objects.select_for_update().get_or_create(
        user_id=user.pk, account=account, defaults={"role": role}
    )
    before = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    record(
        actor,
        "staff.grant_role",
        account=account,
        target=user.get_username(),
        changes={"role": [before, role.value]},
    )
    return membership


@transaction.atomic
def revoke_role(actor: AbstractBaseUser, user: AbstractBaseUser, account: OfficialAccount) -> bool:
    require_role(actor, account, Role.ADMIN)
    return remove_role(actor, user, account)


@transaction.atomic
def remove_role(actor: AbstractBaseUser | str, user: Any, account: OfficialAccount) -> bool:
    deleted, _ = Membership.objects.filter(user_id=user.pk, account=account).delete()
    if deleted:
        record(actor, "staff.revoke_role", account=account, target=user.get_username())
    return bool(deleted)
