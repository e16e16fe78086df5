"""Reads for the rules page and the API: rules grouped by trigger, with their hits from the event store."""

from __future__ import annotations

from django.db.models import Count

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.models import Rule, Trigger
from liucun.events.models import Event


def hit_counts(account: OfficialAccount) -> dict[int, int]:
    """Events each rule answered; read through the partial index event_rule_hits (answered events only)."""
    rows = (
        Event.objects.filter(account=account, rule_id__isnull=False)
        .values("rule_id")
        .annotate(n=Count("id"))
        .values_list("rule_id", "n")
    )
    return {rule_id: n for rule_id, n in rows if rule_id is not None}


def rules_by_trigger(account: OfficialAccount) -> list[tuple[str, str, list[Rule]]]:
    """(trigger, label, rules best first) for every trigger, empty ones included, in the editor's order."""
    hits = hit_counts(account)
    grouped: dict[str, list[Rule]] = {t.value: [] for t in Trigger}
    for rule in Rule.objects.filter(account=account).order_by("-priority", "id"):
        rule.hits = hits.get(rule.pk, 0)  # type: ignore[attr-defined]
        grouped[rule.trigger].append(rule)
    return [(t.value, str(t.label), grouped[t.value]) for t in Trigger]
