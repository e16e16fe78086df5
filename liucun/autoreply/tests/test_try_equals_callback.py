"""Property: for any message, "try it" names the rule and reply the callback gives (same code path),
and a retried delivery gets the stored answer even after the rules changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import count

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from liucun.accounts.models import OfficialAccount
from liucun.autoreply import actions
from liucun.autoreply.demo import DEMO_RULES, seed_demo
from liucun.autoreply.trying import probe_for, try_message
from liucun.events.models import Event
from liucun.servicehours.hours import is_open
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories
from liucun.testing.wechat_peer import WeChatPeer

pytestmark = pytest.mark.django_db

_ids = count(1)
FRAGMENTS = [
    "积分",
    "营业时间",
    "预约",
    "人工客服",
    "订单",
    "发货",
    "什么时候",
    "你好",
    "几点",
    "MENU",
    "！",
    " ",
]


def _text_xml(account: OfficialAccount, openid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def _deliver(client: Client, peer: WeChatPeer, xml: str) -> str:
    request = peer.sign(xml)
    response = client.generic("POST", request.url, request.body, content_type="text/xml")
    assert response.status_code == 200
    return peer.open_reply(response.content.decode())


def _content(reply_xml: str) -> str | None:
    found = re.search(
        r"<Content><!\[CDATA\[(.*?)\]\]></Content>|<Title><!\[CDATA\[(.*?)\]\]></Title>", reply_xml
    )
    return None if found is None else (found.group(1) or found.group(2))


@pytest.fixture
def demo_account() -> OfficialAccount:
    account = make_account(mode="safe")
    seed_demo(account)
    return account


@random_histories(40)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), min_size=1, max_size=4).map("".join))
def test_try_it_equals_what_the_callback_answers(demo_account: OfficialAccount, text: str) -> None:
    if not text.strip() or "]]>" in text or any(ord(c) < 32 for c in text):
        return  # not something a fan's WeChat client sends as a text message
    client = Client()
    peer = WeChatPeer(
        appid=demo_account.appid, token=demo_account.token, aes_key=demo_account.encoding_aes_key, mode="safe"
    )
    msg_id = next(_ids)
    tried = try_message(demo_account, probe_for("text", text=text), "oProperty")
    answer = _deliver(client, peer, _text_xml(demo_account, "oProperty", text, msg_id))
    event = Event.objects.get(account=demo_account, dedupe_key=f"msg:{msg_id}")
    assert event.rule_id == tried.rule_id
    assert event.handoff == tried.handoff
    expected = tried.reply
    assert _content(answer) == (
        getattr(expected, "content", None) or (expected.articles[0].title if expected else None)
    )


def test_a_retried_delivery_gets_the_first_answer_after_the_rules_changed(
    demo_account: OfficialAccount,
) -> None:
    client = Client()
    peer = WeChatPeer(
        appid=demo_account.appid, token=demo_account.token, aes_key=demo_account.encoding_aes_key, mode="safe"
    )
    xml = _text_xml(demo_account, "oRetry", "我的积分怎么查？", 990001)
    first = _deliver(client, peer, xml)
    assert "积分可在菜单" in first
    actions.replace_rules("owner", demo_account, [r for r in DEMO_RULES if r["name"] != "积分查询"])
    assert _deliver(client, peer, xml) == first
    assert Event.objects.filter(account=demo_account, dedupe_key="msg:990001").count() == 1
    fresh = _deliver(client, peer, _text_xml(demo_account, "oRetry", "我的积分怎么查？", 990002))
    open_now = is_open(demo_account.pk, datetime.now(UTC))
    assert ("我们会在 48 小时内回复您" if open_now else "现在是非服务时间") in fresh


def test_a_fault_in_the_rules_stores_the_message_unanswered(
    demo_account: OfficialAccount, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from liucun.inbound import reply_policy

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(reply_policy, "decide", broken)
    client = Client()
    peer = WeChatPeer(
        appid=demo_account.appid, token=demo_account.token, aes_key=demo_account.encoding_aes_key, mode="safe"
    )
    assert _deliver(client, peer, _text_xml(demo_account, "oFault", "积分", 990100)) == "success"
    event = Event.objects.get(account=demo_account, dedupe_key="msg:990100")
    assert (event.reply, event.rule_id) == ("", None)
    assert "reply rules failed" in caplog.text
