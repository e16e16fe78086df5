"""Rows of every kind the rules pages show, for the console's query-count walk (test_query_counts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.actions import replace_rules
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.servicehours.actions import save_service_hours


def populate(account: OfficialAccount, fans: list[Fan]) -> dict[str, Any]:
    """A rule of each trigger per fan (so a per-rule query would show), events each rule answered, and
    service hours. Returns {"rule_id": ...} for URLs taking a rule."""
    text = [{"type": "text", "text": "{remark}您好"}]
    rules: list[dict[str, Any]] = []
    for i, _fan in enumerate(fans):
        rules += [
            {"name": f"kw{i}", "trigger": "keyword", "match": "contains", "values": [f"词{i}"]},
            {"name": f"re{i}", "trigger": "keyword", "match": "regex", "values": [f"^问{i}"]},
            {"name": f"follow{i}", "trigger": "follow", "values": [f"store_{i}"]},
            {"name": f"click{i}", "trigger": "click", "values": [f"KEY_{i}"], "handoff": True},
        ]
    rules = [{**rule, "replies": text} for rule in rules]
    rules.append({"name": "default", "trigger": "default", "replies": text, "enabled": False})
    created = replace_rules("system", account, rules)
    now = datetime.now(UTC)
    Event.objects.bulk_create(
        Event(
            account=account,
            openid=fan.openid,
            kind="text",
            dedupe_key=f"rule-hit:{fan.openid}:{n}",
            wechat_time=now,
            received_at=now,
            source=EventSource.CALLBACK,
            payload={"Content": f"词{i}"},
            rule_id=created[(i * 4 + n) % len(created)].pk,
            handoff=n == 3,
        )
        for i, fan in enumerate(fans)
        for n in range(4)
    )
    save_service_hours(
        "system", account, enabled=True, weekly=[[0, "09:00", "21:00"]], holidays=["2026-10-01"]
    )
    return {"rule_id": created[0].pk}
