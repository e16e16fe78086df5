"""Named writes on staff roles. Each runs in one transaction and is audited."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from liucun.accounts.models import OfficialAccount
from liucun.staff.audit import record
from liucun.staff.models import Membership, Role
from liucun.staff.permissions import require_role


@transaction.atomic
def grant_role(
    actor: AbstractBaseUser, user: AbstractBaseUser, account: OfficialAccount, role: Role
) -> Membership:
    require_role(actor, account, Role.ADMIN)
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
    deleted, _ = Membership.objects.filter(user_id=user.pk, account=account).delete()
    if deleted:
        record(actor, "staff.revoke_role", account=account, target=user.get_username())
    return bool(deleted)
