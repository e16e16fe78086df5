"""The menus API end to end: real HTTP endpoints, the real database, wxsim over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import make_user, member
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.menus.clicks import MenuClicksConsumer
from liucun.menus.models import MenuDraft, PublishedMenu
from liucun.readmodels import runner
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import Role
from liucun.tags import actions as tag_actions
from liucun.testing.factories import make_account, make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db

MENU = [
    {"type": "click", "name": "积分查询", "key": "MENU_POINTS"},
    {"name": "服务", "sub_button": [{"type": "view", "name": "官网", "url": "https://shop.example.cn/"}]},
]


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=12) as url:
        yield url


@pytest.fixture
def setup(wxsim_url: str) -> dict[str, Any]:
    control = WxsimControl(wxsim_url)
    account = make_account_on_wxsim(control)
    operator = member(make_user("op"), account, Role.OPERATOR)
    agent = member(make_user("agent"), account, Role.AGENT)
    outsider = member(make_user("outsider"), make_account(), Role.ADMIN)
    keys = {
        "op": create_api_token(operator, "ops", max_role=Role.OPERATOR)[1],
        "agent": create_api_token(agent, "agent", max_role=Role.AGENT)[1],
        "outsider": create_api_token(outsider, "out", max_role=Role.ADMIN)[1],
    }
    return {"account": account, "control": control, "keys": keys}


def _call(setup: dict[str, Any], method: str, path: str, body: Any = None, who: str = "op") -> Any:
    client = Client()
    base = f"/api/accounts/{setup['account'].appid}/menus"
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {setup['keys'][who]}"}
    if body is not None:
        kwargs.update(data=body, content_type="application/json")
    return getattr(client, method)(base + path, **kwargs)


def test_draft_publish_current_history_restore(setup: dict[str, Any]) -> None:
    account: OfficialAccount = setup["account"]
    made = _call(setup, "post", "/drafts", {"name": "春季", "buttons": MENU})
    assert made.status_code == 201 and made.json()["buttons"] == MENU
    draft_id = made.json()["id"]
    published = _call(setup, "post", f"/drafts/{draft_id}/publish", {})
    assert published.status_code == 201, published.content
    out = published.json()
    assert (out["kind"], out["ok"], out["answer"]) == ("default", True, "ok")
    assert out["published_by"].startswith("api-token:")
    current = _call(setup, "get", "/current").json()
    assert (current["buttons"], current["conditional"]) == (MENU, [])
    changed = _call(setup, "patch", f"/drafts/{draft_id}", {"buttons": MENU[:1]})
    assert changed.status_code == 200 and changed.json()["buttons"] == MENU[:1]
    _call(setup, "post", f"/drafts/{draft_id}/publish", {})
    assert _call(setup, "get", "/current").json()["buttons"] == MENU[:1]
    history = _call(setup, "get", "/history").json()
    assert [h["buttons"] for h in history] == [MENU[:1], MENU]
    restored = _call(setup, "post", f"/history/{history[1]['id']}/restore")
    assert restored.status_code == 201 and restored.json()["restored_from_id"] == history[1]["id"]
    assert _call(setup, "get", "/current").json()["buttons"] == MENU
    assert PublishedMenu.objects.filter(account=account).count() == 3
    assert _call(setup, "delete", "/current").status_code == 201
    assert _call(setup, "get", "/current").json()["buttons"] == []


def test_conditional_by_tag_and_trymatch(setup: dict[str, Any]) -> None:
    account, control = setup["account"], setup["control"]
    vip, plain = control.add_fans(account.appid, count=2)
    Fan.objects.bulk_create(Fan(account=account, openid=o, is_following=True) for o in (vip, plain))
    tag = tag_actions.create_tag("op", account, "会员")
    tag_actions.tag_fans("op", account, tag.pk, [vip])
    default = _call(setup, "post", "/drafts", {"name": "默认", "buttons": MENU}).json()["id"]
    vip_menu = [{"type": "click", "name": "会员专享", "key": "MENU_VIP"}]
    special = _call(setup, "post", "/drafts", {"name": "会员", "buttons": vip_menu}).json()["id"]
    refused = _call(setup, "post", f"/drafts/{special}/publish", {"tag_id": tag.pk})
    assert (refused.status_code, refused.json()["code"]) == (409, "wechat.65303")  # no default menu yet
    _call(setup, "post", f"/drafts/{default}/publish", {})
    made = _call(setup, "post", f"/drafts/{special}/publish", {"tag_id": tag.pk}).json()
    assert (made["kind"], made["tag_wechat_id"], made["tag_name"]) == ("conditional", tag.wechat_id, "会员")
    current = _call(setup, "get", "/current").json()
    assert [(c["menu_id"], c["tag_name"], c["buttons"]) for c in current["conditional"]] == [
        (made["menu_id"], "会员", vip_menu)
    ]
    assert _call(setup, "post", "/trymatch", {"openid": vip}).json() == vip_menu
    assert _call(setup, "post", "/trymatch", {"openid": plain}).json() == MENU
    assert _call(setup, "delete", f"/conditional/{made['menu_id']}").status_code == 201
    assert _call(setup, "post", "/trymatch", {"openid": vip}).json() == MENU


def test_over_the_limits_is_400_with_the_button_named_and_nothing_saved(setup: dict[str, Any]) -> None:
    bad = [{"type": "view", "name": "官网", "url": "https://e.cn/" + "a" * 1020}]
    answer = _call(setup, "post", "/drafts", {"name": "坏", "buttons": bad})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "Button 1 “官网”: the URL must be at most 1024 bytes, is 1033.",
        "code": "menus.refused",
    }
    assert not MenuDraft.objects.exists()


def test_roles_agents_are_refused_and_outsiders_see_nothing(setup: dict[str, Any]) -> None:
    assert _call(setup, "get", "/drafts", who="agent").status_code == 403
    assert _call(setup, "post", "/drafts", {"name": "x", "buttons": MENU}, who="agent").status_code == 403
    assert _call(setup, "get", "/stats", who="outsider").status_code == 404
    assert not MenuDraft.objects.exists()


def test_stats_period_and_click_rate(setup: dict[str, Any]) -> None:
    account = setup["account"]
    for i, (openid, key) in enumerate([("oA", "MENU_POINTS"), ("oA", "MENU_POINTS"), ("oB", "MENU_POINTS")]):
        at = datetime(2026, 3, 2, 4, i, tzinfo=UTC)
        Event.objects.create(
            account=account,
            openid=openid,
            kind="event.click",
            dedupe_key=f"s{i}",
            wechat_time=at,
            received_at=at,
            source=EventSource.CALLBACK,
            payload={"EventKey": key},
        )
    runner.run(MenuClicksConsumer())
    _call(setup, "post", "/drafts", {"name": "默认", "buttons": MENU})
    stats = _call(setup, "get", "/stats?start=2026-03-01&end=2026-03-03").json()
    assert stats["buttons"] == [
        {"button": "MENU_POINTS", "name": "积分查询", "clicks": 3, "fan_days": 2, "fans": 2}
    ]
    assert stats["daily"] == {"MENU_POINTS": [0, 3, 0]}
    assert (stats["clicking_fans"], stats["following_at_end"], stats["click_rate"]) == (2, 0, None)
    assert _call(setup, "get", "/stats?start=2026-03-04&end=2026-03-01").status_code == 400
    assert _call(setup, "get", "/stats?start=2020-01-01&end=2026-03-01").status_code == 400
