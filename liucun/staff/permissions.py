"""The one place that says whether a user may act on an account. Views and the API call these."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from liucun.accounts.models import OfficialAccount
from liucun.staff.models import ROLE_RANK, Membership, Role

User = AbstractBaseUser | AnonymousUser


def role_on(user: User, account: OfficialAccount) -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    membership = Membership.objects.filter(user_id=user.pk, account=account).only("role").first()
    return Role(membership.role) if membership else None


def has_role(user: User, account: OfficialAccount, minimum: Role) -> bool:
    role = role_on(user, account)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def require_role(user: User, account: OfficialAccount, minimum: Role) -> Role:
    """The user's role on the account, or PermissionDenied (shown as 403/404 by the caller)."""
    role = role_on(user, account)
    if role is None or ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise PermissionDenied(f"needs the {minimum.value} role on this account")
    return role


def accounts_visible_to(user: User, minimum: Role = Role.AGENT) -> QuerySet[OfficialAccount]:
    if not user.is_authenticated or not user.is_active:
        return OfficialAccount.objects.none()
    if getattr(user, "is_superuser", False):
        return OfficialAccount.objects.all()
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK[minimum]]
    return OfficialAccount.objects.filter(
        memberships__user_id=user.pk, memberships__role__in=roles
    ).distinct()
