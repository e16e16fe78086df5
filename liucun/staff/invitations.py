"""Invitations to a role on an account: made by an admin, redeemed once by whoever holds the link."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from liucun.accounts.models import OfficialAccount
from liucun.staff.audit import record
from liucun.staff.models import ROLE_RANK, Invitation, Membership, Role
from liucun.staff.permissions import require_role
from liucun.staff.refusals import INVITATION_GONE, StaffRefused

VALID_FOR = timedelta(days=7)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_invitation(
    actor: Any, account: OfficialAccount, role: Role, note: str = ""
) -> tuple[Invitation, str]:
    """The invitation and its key (for the link). The key is not stored and cannot be shown again."""
    require_role(actor, account, Role.ADMIN)
    key = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        account=account,
        role=role,
        note=note.strip()[:80],
        key_hash=_hash(key),
        created_by=actor,
        expires_at=timezone.now() + VALID_FOR,
    )
    record(actor, "staff.invite", account=account, target=f"invitation {invitation.pk}",
           changes={"role": role.value, "note": invitation.note})  # fmt: skip
    return invitation, key


def open_invitation(key: str) -> Invitation | None:
    """The invitation a link names, if it can still be accepted."""
    invitation = Invitation.objects.select_related("account").filter(key_hash=_hash(key)).first()
    return invitation if invitation is not None and invitation.is_open else None


@transaction.atomic
def accept_invitation(key: str, user: Any) -> Membership:
    invitation = Invitation.objects.select_for_update().filter(key_hash=_hash(key)).first()
    if invitation is None or not invitation.is_open:
        raise StaffRefused(INVITATION_GONE, status=404)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    # The inviting admin's grant, applied now; a role the invitee already holds higher is kept.
    membership = (
        Membership.objects.select_for_update().filter(user_id=user.pk, account=invitation.account).first()
    )
    if membership is None:
        membership = Membership.objects.create(
            user_id=user.pk, account=invitation.account, role=invitation.role
        )
    elif ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(invitation.role)]:
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    record(user, "staff.accept_invitation", account=invitation.account, target=user.get_username(),
           changes={"role": invitation.role, "invitation": invitation.pk})  # fmt: skip
    return membership


@transaction.atomic
def revoke_invitation(actor: Any, account: OfficialAccount, invitation_id: int) -> bool:
    require_role(actor, account, Role.ADMIN)
    changed = Invitation.objects.filter(
        account=account, pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if changed:
        record(actor, "staff.revoke_invitation", account=account, target=f"invitation {invitation_id}")
    return bool(changed)
