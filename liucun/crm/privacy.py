"""Erasure reaches the audit trail of CRM edits (docs/privacy.md).

The audit entry of a remark or attribute edit holds the values before and after: that is what makes it
useful, and it is personal data. When a fan's personal data is erased (policy on unfollow, or the fan's
request through liucun.fans.privacy.erase_fan), those values are replaced by "(erased)" in the same
transaction; who changed which key, and when, stays. Like the event store's redaction, this is the one
rewrite the otherwise append-only audit log allows.

It hangs on Fan's post_save rather than a call from fans.privacy so the fans app needs no knowledge of
the CRM app; tests in liucun/crm/tests pin the contract (erase_fan saves with personal_data_erased_at).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from liucun.fans.models import Fan
from liucun.staff.models import AuditEntry

REDACTED = "(erased)"
EDIT_ACTIONS = ("crm.set_remark", "crm.set_attributes")


def connect() -> None:
    post_save.connect(_after_fan_save, sender=Fan, dispatch_uid="liucun.crm.privacy")


def _after_fan_save(sender: Any, instance: Fan, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields and "personal_data_erased_at" in update_fields and instance.personal_data_erased_at:
        redact_edit_audits(instance.account_id, instance.openid)


def redact_edit_audits(account_id: int, openid: str) -> int:
    """Replace the values in this fan's CRM edit audit entries; keys, actor and time stay."""
    count = 0
    entries = AuditEntry.objects.filter(account_id=account_id, target=openid, action__in=EDIT_ACTIONS)
    for entry_id, changes in entries.values_list("id", "changes"):
        redacted = {side: _redact(values) for side, values in (changes or {}).items()}
        if redacted != changes:
            AuditEntry.objects.filter(pk=entry_id).update(changes=redacted)
            count += 1
    return count


def _redact(values: Any) -> Any:
    if isinstance(values, dict):
        return {key: (REDACTED if value else value) for key, value in values.items()}
    return REDACTED if values else values
