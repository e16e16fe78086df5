"""The audit log as an admin reads it: people's actions first, the automatic ones grouped and labelled."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from liucun.console.tests.conftest import TwoAccounts, logged_in
from liucun.staff.audit import record
from liucun.staff.audit_labels import ACTION_LABELS

pytestmark = pytest.mark.django_db


def test_staff_actions_by_default_and_automatic_ones_grouped(two_accounts: TwoAccounts) -> None:
    t = two_accounts
    for i in range(40):
        record("privacy-policy", "fans.erase_personal_data", account=t.a, target=f"oGone{i}")
    record(t.admin_a, "tags.create", account=t.a, target="常客")
    record("cli", "staff.grant_role", account=t.a, target="wang")
    record("api-token:abcd1234", "crm.import", account=t.a, target="import 1")
    client = logged_in(t.admin_a)
    url = reverse("console:audit", kwargs={"appid": t.a.appid})
    staff = client.get(url)
    actions = [e.action for e in staff.context["page"].object_list]
    assert actions == [
        "crm.import",
        "staff.grant_role",
        "tags.create",
        "accounts.create",
    ]  # the last by the CLI
    automatic = client.get(url, {"who": "automatic"})
    groups = list(automatic.context["page"].object_list)
    assert [(g["actor_label"], g["action"], g["count"]) for g in groups] == [
        ("privacy-policy", "fans.erase_personal_data", 40)
    ]
    body = automatic.content.decode()
    assert "隐私策略" in body or "Privacy policy" in body
    day = groups[0]["day"].isoformat()
    detail = client.get(url, {"who": "automatic", "day": day, "action": "fans.erase_personal_data"})
    assert detail.context["page"].paginator.count == 40
    assert (
        client.get(url, {"who": "all", "day": "2026-02-30"}).status_code == 200
    )  # an impossible day: ignored


def test_every_recorded_action_has_a_label() -> None:
    """A new action written with a fixed code must say in words what it was (both languages)."""
    codes = set()
    for path in (Path(__file__).parents[2]).rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = getattr(node, "func", None)
            name = getattr(func, "id", getattr(func, "attr", None))
            if isinstance(node, ast.Call) and name == "record" and len(node.args) >= 2:
                arg = node.args[1]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
    assert codes and sorted(codes - set(ACTION_LABELS)) == []
