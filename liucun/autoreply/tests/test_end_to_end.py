"""Reply rules end to end: wxsim's fans write and scan, a real `liucun serve` answers from the rules.

wxsim's recorder holds the passive reply each fan got, so these tests read what the fan saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from liucun.accounts.models import OfficialAccount
from liucun.autoreply import actions
from liucun.autoreply.models import Rule
from liucun.events.models import Event
from liucun.outbound.models import OutboundMessage
from liucun.testing.factories import make_account_on_wxsim
from liucun.testing.live import running_server
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def servers(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[WxsimControl, str]]:
    # One wxsim and one server for the module: starting them is most of these tests' time.
    with running_wxsim(seed=18) as wxsim_url, running_server(workers=1, threads=4) as liucun_url:
        yield WxsimControl(wxsim_url), liucun_url


@pytest.fixture
def live(servers: tuple[WxsimControl, str]) -> tuple[WxsimControl, OfficialAccount]:
    control, liucun_url = servers
    account = make_account_on_wxsim(
        control, welcome_text="欢迎关注！", callback_url=liucun_url + "/wechat/{appid}/callback"
    )
    return control, account


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "text": content}


def replies_to(control: WxsimControl, account: OfficialAccount, openid: str) -> list[str]:
    return [
        r["detail"]["xml"] for r in control.recorder(appid=account.appid, openid=openid, kind="passive_reply")
    ]


def test_keyword_rule_answers_a_question_and_the_event_records_the_rule(
    live: tuple[WxsimControl, OfficialAccount],
) -> None:
    control, account = live
    points = actions.create_rule(
        "owner",
        account,
        {
            "name": "积分查询",
            "trigger": "keyword",
            "match": "contains",
            "values": ["积分"],
            "replies": [text("{remark}您好，积分请点菜单“会员中心”查看。")],
        },
    )
    fallback = actions.create_rule(
        "owner",
        account,
        {"name": "默认", "trigger": "default", "replies": [text("我们会在48小时内回复您。")]},
    )
    control.act(account.appid, "follow", "oFanKeyword1")
    control.act(account.appid, "text", "oFanKeyword1", content="我的积分怎么查？")
    control.act(account.appid, "text", "oFanKeyword1", content="你们几点关门")
    got = replies_to(control, account, "oFanKeyword1")
    assert len(got) == 3
    assert "欢迎关注！" in got[0]  # no follow rule: the account's welcome text
    assert "<Content><![CDATA[您好，积分请点菜单“会员中心”查看。]]></Content>" in got[1]  # no remark: empty
    assert "我们会在48小时内回复您。" in got[2]
    stored = list(Event.objects.filter(account=account, openid="oFanKeyword1").order_by("id"))
    assert [(e.kind, e.rule_id) for e in stored] == [
        ("event.subscribe", None),
        ("text", points.pk),
        ("text", fallback.pk),
    ]


def test_welcome_per_qr_scene_greets_a_fan_who_scans_that_code(
    live: tuple[WxsimControl, OfficialAccount],
) -> None:
    control, account = live
    store = actions.create_rule(
        "owner",
        account,
        {
            "name": "南山店欢迎",
            "trigger": "follow",
            "values": ["store_nanshan"],
            "replies": [text("欢迎来到南山店！")],
        },
    )
    actions.create_rule(
        "owner", account, {"name": "默认欢迎", "trigger": "follow", "replies": [text("欢迎关注留存！")]}
    )
    again = actions.create_rule(
        "owner",
        account,
        {
            "name": "再次扫码",
            "trigger": "scan",
            "values": ["store_nanshan"],
            "replies": [text("又来南山店啦")],
        },
    )
    control.act(account.appid, "follow", "oFanScene1", scene="store_nanshan")
    control.act(account.appid, "follow", "oFanScene2", scene="store_futian")
    control.act(account.appid, "scan", "oFanScene1", scene="store_nanshan")
    assert ["欢迎来到南山店！" in x for x in replies_to(control, account, "oFanScene1")] == [True, False]
    assert "又来南山店啦" in replies_to(control, account, "oFanScene1")[1]
    assert "欢迎关注留存！" in replies_to(control, account, "oFanScene2")[0]
    kinds = dict(Event.objects.filter(account=account, openid="oFanScene1").values_list("kind", "rule_id"))
    assert kinds == {"event.subscribe": store.pk, "event.scan": again.pk}


def test_handoff_and_follow_ups_and_a_change_seen_by_the_server_within_two_seconds(
    live: tuple[WxsimControl, OfficialAccount],
) -> None:
    control, account = live
    human = actions.create_rule(
        "owner",
        account,
        {
            "name": "人工客服",
            "trigger": "keyword",
            "match": "exact",
            "values": ["人工客服"],
            "reply_mode": "sequence",
            "handoff": True,
            "replies": [text("正在为您转接人工客服。"), text("请简单描述您的问题。")],
        },
    )
    control.act(account.appid, "follow", "oFanHuman1")
    control.act(account.appid, "text", "oFanHuman1", content="人工客服")
    event = Event.objects.get(account=account, openid="oFanHuman1", kind="text")
    assert (event.rule_id, event.handoff) == (human.pk, True)
    assert "正在为您转接人工客服。" in replies_to(control, account, "oFanHuman1")[1]
    queued = OutboundMessage.objects.get(account=account, idempotency_key=f"rule:{event.pk}:1")
    assert queued.rule_id == human.pk

    # The server process compiled the rules; a change made here must reach it within two seconds.
    actions.update_rule(
        "owner",
        account,
        human.pk,
        {
            "name": "人工客服",
            "trigger": "keyword",
            "match": "exact",
            "values": ["人工客服"],
            "replies": [text("v2")],
        },
    )
    changed_at = time.monotonic()
    seen = None
    for _ in range(40):
        control.act(account.appid, "text", "oFanHuman1", content="人工客服")
        if "v2" in replies_to(control, account, "oFanHuman1")[-1]:
            seen = time.monotonic() - changed_at
            break
        control.clock(advance=1)  # a new CreateTime, so wxsim's next message is a new delivery
        time.sleep(0.1)  # wall time must pass for the server's once-a-second version check
    assert seen is not None and seen <= 2.0, f"the change took {seen} s"
    assert Rule.objects.get(pk=human.pk).handoff is False
