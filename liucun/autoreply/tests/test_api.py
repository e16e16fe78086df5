"""The rules API with an API token: create, refuse with the field named, try, export/import, hours."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.models import Rule
from liucun.console.tests.conftest import make_user, member
from liucun.servicehours.models import ServiceHours
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


def client_for(account: OfficialAccount, role: Role) -> Client:
    user = member(make_user(f"api-{role.value}"), account, role)
    _, key = create_api_token(user, "t", max_role=role)
    return Client(headers={"Authorization": f"Bearer {key}"})


def post(client: Client, url: str, body: Any, method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


RULE = {
    "name": "预约",
    "trigger": "keyword",
    "match": "regex",
    "values": ["预约|booking"],
    "replies": [{"type": "news", "title": "在线预约", "url": "https://example.com/booking"}],
}


def test_create_get_update_delete_and_try() -> None:
    account = make_account(welcome_text="")
    api = client_for(account, Role.OPERATOR)
    base = f"/api/accounts/{account.appid}/rules"
    created = post(api, base, RULE)
    assert created.status_code == 201
    rule_id = created.json()["id"]
    assert api.get(f"{base}/{rule_id}").json()["values"] == ["预约|booking"]
    tried = post(api, f"{base}/try", {"kind": "text", "text": "可以预约吗？"}).json()
    assert tried["rule_id"] == rule_id and "<Title><![CDATA[在线预约]]></Title>" in tried["reply_xml"]
    changed = post(api, f"{base}/{rule_id}", {**RULE, "values": ["book"]}, method="put")
    assert changed.status_code == 200
    assert post(api, f"{base}/try", {"kind": "text", "text": "可以预约吗？"}).json()["rule_id"] is None
    assert api.delete(f"{base}/{rule_id}").status_code == 204
    assert api.get(base).json() == []


def test_refusals_name_the_field_and_save_nothing() -> None:
    account = make_account()
    api = client_for(account, Role.OPERATOR)
    base = f"/api/accounts/{account.appid}/rules"
    hostile = post(api, base, {**RULE, "values": ["ok", "(a+)+\\1"]})
    assert hostile.status_code == 400
    assert hostile.json()["code"] == "rule_invalid"
    assert hostile.json()["detail"].startswith("values[2]: this pattern cannot be used")
    too_long = post(
        api, base, {**RULE, "replies": [{"type": "news", "title": "标" * 65, "url": "https://e.com"}]}
    )
    assert too_long.json()["detail"].startswith("replies[1].title: at most 64 characters")
    assert not Rule.objects.exists()
    agent = client_for(account, Role.AGENT)
    assert post(agent, base, RULE).status_code == 403
    assert not Rule.objects.exists()


def test_export_import_all_or_nothing() -> None:
    account = make_account()
    api = client_for(account, Role.OPERATOR)
    base = f"/api/accounts/{account.appid}/rules"
    post(api, base, RULE)
    exported = api.get(f"{base}/export").json()
    bad = {**exported, "rules": [*exported["rules"], {**RULE, "trigger": "nope"}]}
    refused = post(api, f"{base}/import", bad)
    assert refused.status_code == 400
    assert (
        refused.json()["detail"]
        == "rules[2].trigger: one of follow, scan, keyword, click, message_type, out_of_hours, default."
    )
    assert Rule.objects.count() == 1
    doubled = {**exported, "rules": exported["rules"] * 2}
    assert len(post(api, f"{base}/import", doubled).json()) == 2


def test_service_hours_for_admins() -> None:
    account = make_account()
    url = f"/api/accounts/{account.appid}/service-hours"
    body = {"enabled": True, "weekly": [[0, "09:00", "21:00"]], "holidays": ["2026-10-01"]}
    assert post(client_for(account, Role.OPERATOR), url, body, method="put").status_code == 403
    admin = client_for(account, Role.ADMIN)
    assert post(admin, url, body, method="put").json() == body
    bad = post(admin, url, {**body, "weekly": [[0, "21:00", "09:00"]]}, method="put")
    assert bad.status_code == 400 and bad.json()["detail"].startswith("weekly[1]:")
    assert ServiceHours.objects.get(account=account).weekly == [[0, "09:00", "21:00"]]
    assert admin.get(url).json() == body
