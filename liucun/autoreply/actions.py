"""Named writes on reply rules, each in one transaction with its audit entry and the version bump.

Every write checks everything first (validation.clean_rule) and bumps the account's RuleSet.version in
the same transaction, so every process's compiled matcher picks the change up within a second
(cache.py). An import replaces all of an account's rules or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.cache import matchers
from liucun.autoreply.models import Rule, RuleSet
from liucun.autoreply.validation import RuleInvalid, clean_rule
from liucun.refusals import Refused
from liucun.staff.audit import actor_label, record
from liucun.tags.models import Tag

Actor = AbstractBaseUser | str
RULES_MAX = 2000  # per account; the matcher stays within its budget far beyond the 1,100 we benchmark
IMPORT_FORMAT = "liucun.reply-rules"
IMPORT_VERSION = 1


class TooManyRules(Refused):
    code = "too_many_rules"


class ImportInvalid(Refused):
    code = "rules_import_invalid"


def _tag_ids(account: OfficialAccount) -> list[int]:
    return list(Tag.objects.filter(account=account).values_list("pk", flat=True))


def _bump(account: OfficialAccount) -> None:
    updated = RuleSet.objects.filter(account=account).update(version=F("version") + 1)
    if not updated:
        RuleSet.objects.create(account=account, version=1)
    account_id = account.pk
    # This process sees its own change at once (its next read finds the new version in the database,
    # inside this transaction or after it); the others at their next version check.
    matchers.forget(account_id)
    transaction.on_commit(lambda: matchers.forget(account_id))


def _audit_view(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}


def create_rule(actor: Actor, account: OfficialAccount, data: Mapping[str, Any]) -> Rule:
    fields = clean_rule(data, _tag_ids(account))
    with transaction.atomic():
        if Rule.objects.filter(account=account).count() >= RULES_MAX:
            raise TooManyRules(_("An account holds at most %(n)d reply rules."), {"n": RULES_MAX})
        rule = Rule.objects.create(account=account, updated_by=actor_label(actor), **fields)
        _bump(account)
        record(actor, "autoreply.create", account=account, target=rule.name, changes=_audit_view(fields))
    return rule


def update_rule(actor: Actor, account: OfficialAccount, rule_id: int, data: Mapping[str, Any]) -> Rule:
    fields = clean_rule(data, _tag_ids(account))
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(account=account, pk=rule_id)
        changes = {k: v for k, v in fields.items() if getattr(rule, k) != v}
        if not changes:
            return rule
        for name, value in changes.items():
            setattr(rule, name, value)
        rule.updated_by = actor_label(actor)
        rule.save()
        _bump(account)
        record(actor, "autoreply.update", account=account, target=rule.name, changes=_audit_view(changes))
    return rule


def set_enabled(actor: Actor, account: OfficialAccount, rule_id: int, enabled: bool) -> Rule:
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(account=account, pk=rule_id)
        if rule.enabled == enabled:
            return rule
        rule.enabled = enabled
        rule.updated_by = actor_label(actor)
        rule.save(update_fields=["enabled", "updated_by", "updated_at"])
        _bump(account)
        action = "autoreply.enable" if enabled else "autoreply.disable"
        record(actor, action, account=account, target=rule.name)
    return rule


def delete_rule(actor: Actor, account: OfficialAccount, rule_id: int) -> None:
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(account=account, pk=rule_id)
        name = rule.name
        rule.delete()
        _bump(account)
        record(actor, "autoreply.delete", account=account, target=name, changes={"id": rule_id})


EXPORTED = (
    "name",
    "trigger",
    "match",
    "values",
    "conditions",
    "valid_from",
    "valid_until",
    "priority",
    "enabled",
    "reply_mode",
    "replies",
    "handoff",
)


def export_rules(account: OfficialAccount) -> dict[str, Any]:
    """The account's rules as a JSON document import_rules takes back (tag conditions by tag id)."""
    rows = Rule.objects.filter(account=account).order_by("trigger", "-priority", "id").values(*EXPORTED)
    return {
        "format": IMPORT_FORMAT,
        "version": IMPORT_VERSION,
        "appid": account.appid,
        "rules": [_audit_view(row) for row in rows],
    }


def check_import(account: OfficialAccount, document: Any) -> list[dict[str, Any]]:
    """Every rule of the document cleaned, or ImportInvalid listing each problem as 'rules[i].field'."""
    if not isinstance(document, Mapping) or document.get("format") != IMPORT_FORMAT:
        raise ImportInvalid(
            _("This is not a reply-rules export (format %(format)s)."), {"format": IMPORT_FORMAT}
        )
    rules = document.get("rules")
    if not isinstance(rules, list):
        raise ImportInvalid(_("rules: give a list of rules."))
    if len(rules) > RULES_MAX:
        raise ImportInvalid(_("An account holds at most %(n)d reply rules."), {"n": RULES_MAX})
    tag_ids = _tag_ids(account)
    cleaned: list[dict[str, Any]] = []
    problems: list[str] = []
    for index, data in enumerate(rules, start=1):
        try:
            cleaned.append(clean_rule(data, tag_ids))
        except RuleInvalid as exc:
            problems.append(f"rules[{index}].{exc.message}")
    if problems:
        raise ImportInvalid(problems[:50])
    return cleaned


def import_rules(actor: Actor, account: OfficialAccount, document: Any) -> list[Rule]:
    """Replace the account's rules with the document's: all of them, or nothing when one is wrong."""
    cleaned = check_import(account, document)
    label = actor_label(actor)
    with transaction.atomic():
        removed = Rule.objects.filter(account=account).delete()[0]
        created = Rule.objects.bulk_create([Rule(account=account, updated_by=label, **f) for f in cleaned])
        _bump(account)
        record(
            actor,
            "autoreply.import",
            account=account,
            target=account.appid,
            changes={"imported": len(created), "replaced": removed},
        )
    return created


def replace_rules(actor: Actor, account: OfficialAccount, rules: Sequence[Mapping[str, Any]]) -> list[Rule]:
    """import_rules for a plain list of rule objects (the demo, benchmarks)."""
    return import_rules(actor, account, {"format": IMPORT_FORMAT, "rules": list(rules)})
