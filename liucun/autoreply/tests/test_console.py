"""The rules pages through the real views: the editor, refusals that save nothing, try-it, import."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.autoreply import actions
from liucun.autoreply.models import Rule, RuleSet
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.staff.models import AuditEntry, Role
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account() -> OfficialAccount:
    return make_account(welcome_text="")


@pytest.fixture
def operator(account: OfficialAccount) -> Client:
    return logged_in(member(make_user("operator"), account, Role.OPERATOR))


@pytest.fixture
def agent(account: OfficialAccount) -> Client:
    return logged_in(member(make_user("agent"), account, Role.AGENT))


def form(**fields: Any) -> dict[str, Any]:
    data = {
        "name": "积分",
        "trigger": "keyword",
        "match": "contains",
        "values": "积分\n会员",
        "priority": "0",
        "enabled": "on",
        "reply_mode": "random",
        "reply1_type": "text",
        "reply1_text": "积分请点菜单查看",
    }
    data.update(fields)
    return data


def test_operator_creates_a_rule_and_it_answers_try_it(account: OfficialAccount, operator: Client) -> None:
    base = f"/a/{account.appid}/rules/"
    response = operator.post(base + "new", form())
    assert response.status_code == 302
    rule = Rule.objects.get(account=account)
    assert (rule.values, rule.match, rule.replies) == (
        ["积分", "会员"],
        "contains",
        [{"type": "text", "text": "积分请点菜单查看"}],
    )
    assert RuleSet.objects.get(account=account).version == 1
    assert AuditEntry.objects.filter(account=account, action="autoreply.create").count() == 1
    tried = operator.post(base + "try", {"kind": "text", "text": "我的积分怎么查？"})
    page = tried.content.decode()
    assert '<div class="from-account" id="try-reply">积分请点菜单查看</div>' in page
    assert "积分" in page and "answers" in page
    nothing = operator.post(base + "try", {"kind": "text", "text": "你好"}).content.decode()
    assert "try-reply" not in nothing
    listing = operator.get(base).content.decode()
    assert f'data-rule="{rule.pk}"' in listing


def test_over_limit_rule_is_refused_with_the_field_named_and_nothing_saved(
    account: OfficialAccount, operator: Client
) -> None:
    response = operator.post(f"/a/{account.appid}/rules/new", form(reply1_text="长" * 683))
    assert response.status_code == 400
    assert "replies[1].text: a text reply is at most 2048 bytes" in response.content.decode()
    hostile = operator.post(f"/a/{account.appid}/rules/new", form(match="regex", values="(a+)+$\n(x)\\1"))
    assert "values[2]: this pattern cannot be used" in hostile.content.decode()
    assert not Rule.objects.filter(account=account).exists()
    assert not RuleSet.objects.filter(account=account).exists()
    assert not AuditEntry.objects.filter(account=account, action__startswith="autoreply.").exists()


def test_agents_may_try_but_not_edit(account: OfficialAccount, agent: Client) -> None:
    base = f"/a/{account.appid}/rules/"
    assert agent.get(base).status_code == 200
    assert agent.post(base + "try", {"kind": "follow"}).status_code == 200
    assert agent.get(base + "new").status_code == 403
    assert agent.post(base + "new", form()).status_code == 403
    assert agent.get(base + "export.json").status_code == 403
    assert not Rule.objects.exists()


def test_try_it_uses_the_fan_conditions_and_placeholders(account: OfficialAccount, operator: Client) -> None:
    fan = add_fans(account, 1)[0]
    vip = Tag.objects.create(account=account, wechat_id=100, name="VIP")
    FanTag.objects.create(fan=fan, tag=vip)
    actions.create_rule(
        "owner",
        account,
        {
            "name": "VIP问候",
            "trigger": "keyword",
            "match": "exact",
            "values": ["hi"],
            "conditions": {"tags": [vip.pk]},
            "replies": [{"type": "text", "text": "{remark}，{attr:store}欢迎您"}],
        },
    )
    base = f"/a/{account.appid}/rules/try"
    as_fan = operator.post(base, {"kind": "text", "text": "hi", "openid": fan.openid}).content.decode()
    assert '<div class="from-account" id="try-reply">备注0，门店0欢迎您</div>' in as_fan
    stranger = operator.post(base, {"kind": "text", "text": "hi"}).content.decode()
    assert "try-reply" not in stranger


def test_toggle_delete_and_version_bumps(account: OfficialAccount, operator: Client) -> None:
    rule = actions.create_rule("owner", account, {**_api_rule(), "name": "a"})
    base = f"/a/{account.appid}/rules/{rule.pk}/"
    operator.post(base + "toggle")
    assert Rule.objects.get(pk=rule.pk).enabled is False
    operator.post(base + "delete")
    assert not Rule.objects.filter(pk=rule.pk).exists()
    assert RuleSet.objects.get(account=account).version == 3


def _api_rule() -> dict[str, Any]:
    return {
        "name": "营业时间",
        "trigger": "keyword",
        "match": "contains",
        "values": ["营业时间"],
        "replies": [{"type": "text", "text": "每天9:00-21:00"}],
    }


def test_export_then_import_round_trips_and_a_bad_file_imports_nothing(
    account: OfficialAccount, operator: Client
) -> None:
    actions.create_rule("owner", account, _api_rule())
    actions.create_rule(
        "owner",
        account,
        {
            "name": "限时",
            "trigger": "default",
            "valid_until": datetime(2027, 1, 1, tzinfo=UTC).isoformat(),
            "replies": [{"type": "text", "text": "x"}],
        },
    )
    exported = json.loads(operator.get(f"/a/{account.appid}/rules/export.json").content)
    assert [r["name"] for r in exported["rules"]] == ["限时", "营业时间"]
    other = make_account()
    actions.import_rules("owner", other, exported)
    assert sorted(Rule.objects.filter(account=other).values_list("name", flat=True)) == ["营业时间", "限时"]

    broken = dict(
        exported,
        rules=[*exported["rules"], {**_api_rule(), "values": ["x" * 31]}, {"name": "", "trigger": "x"}],
    )
    upload = SimpleUploadedFile("rules.json", json.dumps(broken).encode(), content_type="application/json")
    response = operator.post(f"/a/{account.appid}/rules/import", {"file": upload}, follow=True)
    page = response.content.decode()
    assert "rules[3].values[1]: at most 30 characters" in page
    assert "rules[4].name: cannot be empty." in page
    assert Rule.objects.filter(account=account).count() == 2  # nothing replaced
    assert RuleSet.objects.get(account=account).version == 2


def test_channel_placeholder_shows_the_channels_name(account: OfficialAccount, operator: Client) -> None:
    from liucun.channels.models import Channel

    Channel.objects.create(account=account, scene="store_001", name="南山店海报")
    actions.create_rule(
        "owner",
        account,
        {"name": "欢迎", "trigger": "follow", "replies": [{"type": "text", "text": "欢迎通过{channel}关注"}]},
    )
    base = f"/a/{account.appid}/rules/try"
    named = operator.post(base, {"kind": "follow", "scene": "store_001"}).content.decode()
    assert '<div class="from-account" id="try-reply">欢迎通过南山店海报关注</div>' in named
    unnamed = operator.post(base, {"kind": "follow", "scene": "park_9"}).content.decode()
    assert '<div class="from-account" id="try-reply">欢迎通过park_9关注</div>' in unnamed
