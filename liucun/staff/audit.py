"""Writing the audit log. Called by action functions inside their own transaction, so a write and its
audit entry commit together or not at all."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from liucun.accounts.models import OfficialAccount
from liucun.staff.models import AuditEntry

# Values never written to the audit log, even when they change.
SECRET_FIELDS = frozenset({"secret", "token", "encoding_aes_key", "password"})


def actor_label(actor: AbstractBaseUser | str | None) -> str:
    """How an actor is named in the log and on jobs: a user's username, or the given label."""
    if isinstance(actor, str):
        return actor
    return actor.get_username() if actor is not None else "system"


def record(
    actor: AbstractBaseUser | str | None,
    action: str,
    *,
    account: OfficialAccount | None = None,
    target: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    user: Any = actor if isinstance(actor, AbstractBaseUser) else None
    label = actor_label(actor)
    cleaned = {k: ("(changed)" if k in SECRET_FIELDS else v) for k, v in (changes or {}).items()}
    return AuditEntry.objects.create(
        actor=user, actor_label=label, account=account, action=action, target=target[:200], changes=cleaned
    )
