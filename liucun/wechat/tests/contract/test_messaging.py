"""customer_service (messages, typing, accounts, sessions), mass sends, templates and notifications."""

from __future__ import annotations

import pytest

from liucun.wechat.api import customer_service as cs
from liucun.wechat.api import mass, tags, templates
from liucun.wechat.api.content import Choices, Link, MassVideo, Text
from liucun.wechat.api.limits import LimitError
from liucun.wechat.tests.contract.conftest import Sim, assert_said, refusal

pytestmark = pytest.mark.django_db


def _sent(sim: Sim, kind: str) -> list[dict]:
    return [r["detail"] for r in sim.control.recorder(appid=sim.account.appid, kind=kind)]


def test_customer_service_messages_and_typing(sim: Sim) -> None:
    fan = sim.openids[0]
    sim.control.act(sim.account.appid, "text", fan, content="营业时间？")
    cs.typing(sim.client, fan)
    cs.send(sim.client, fan, Text("早9点到晚9点"))
    cs.send(sim.client, fan, Link("门店地址", "https://example.com/shop", "静安店"))
    cs.send(sim.client, fan, Choices("满意吗？", [("101", "满意"), ("102", "不满意")], "谢谢"))
    assert _sent(sim, "customer_service") == [
        {"msgtype": "text", "text": {"content": "早9点到晚9点"}},
        {
            "msgtype": "news",
            "news": {
                "articles": [
                    {
                        "title": "门店地址",
                        "description": "静安店",
                        "url": "https://example.com/shop",
                        "picurl": "",
                    }
                ]
            },
        },
        {
            "msgtype": "msgmenu",
            "msgmenu": {
                "head_content": "满意吗？",
                "list": [{"id": "101", "content": "满意"}, {"id": "102", "content": "不满意"}],
                "tail_content": "谢谢",
            },
        },
    ]


def test_customer_service_refused(sim: Sim) -> None:
    closed = refusal(lambda: cs.send(sim.client, sim.openids[1], Text("你好")))
    assert closed.errcode == 45015
    assert_said(
        closed,
        "WeChat refused: the fan's 48-hour window is closed (or the fan unfollowed) (errcode 45015).",
        "微信拒绝：该粉丝的 48 小时互动窗口已关闭（或已取消关注） (errcode 45015)。",
    )
    not_here = refusal(lambda: cs.send(sim.client, sim.openids[1], MassVideo("m")))
    assert isinstance(not_here, LimitError) and not_here.errcode == 40008


def test_customer_service_accounts_and_sessions(sim: Sim) -> None:
    cs.add_agent(sim.client, "xiaomei@shop", "小美")
    cs.rename_agent(sim.client, "xiaomei@shop", "小美（店长）")
    (agent,) = cs.agents(sim.client)
    assert (agent.account, agent.nickname) == ("xiaomei@shop", "小美（店长）") and agent.id
    assert cs.session_of(sim.client, sim.openids[0]) is None
    assert cs.sessions_of(sim.client, "xiaomei@shop") == []
    assert cs.waiting(sim.client) == []
    sim.control._call(
        "POST", "/wxsim/kf", json={"appid": sim.account.appid, "kf_account": "xiaomei@shop", "online": True}
    )
    assert [(a.account, a.status) for a in cs.online_agents(sim.client)] == [("xiaomei@shop", 1)]
    cs.open_session(sim.client, "xiaomei@shop", sim.openids[0])
    session = cs.session_of(sim.client, sim.openids[0])
    assert session == cs.Session(sim.openids[0], "xiaomei@shop", session.created_at if session else 0)
    assert cs.sessions_of(sim.client, "xiaomei@shop") == [session]
    cs.close_session(sim.client, "xiaomei@shop", sim.openids[0])
    assert cs.session_of(sim.client, sim.openids[0]) is None
    cs.delete_agent(sim.client, "xiaomei@shop")
    assert cs.agents(sim.client) == []


def test_customer_service_accounts_refused(sim: Sim) -> None:
    cs.add_agent(sim.client, "a1@shop", "一号")
    twice = refusal(lambda: cs.add_agent(sim.client, "a1@shop", "一号"))
    assert twice.errcode == 65406
    assert_said(
        twice,
        "WeChat refused: this customer-service account exists already (errcode 65406).",
        "微信拒绝：该客服账号已存在 (errcode 65406)。",
    )
    bad = refusal(lambda: cs.add_agent(sim.client, "no-at-sign", "x"))
    assert isinstance(bad, LimitError) and bad.errcode == 65404
    no_session = refusal(lambda: cs.close_session(sim.client, "a1@shop", sim.openids[0]))
    assert no_session.errcode == 65413
    assert_said(
        no_session,
        "WeChat refused: the fan has no open customer-service session (errcode 65413).",
        "微信拒绝：该粉丝没有进行中的客服会话 (errcode 65413)。",
    )


def test_mass_sends(sim: Sim) -> None:
    first = mass.send_to_all(sim.client, Text("周末全场八折"), clientmsgid="promo-1")
    assert first == mass.MassSent(first.msg_id, first.msg_id * 10)
    assert mass.status(sim.client, first.msg_id) == mass.MassStatus.SENT
    sim.control.clock(advance=120)  # past the one-minute retry window: the id names the first send
    assert mass.send_to_all(sim.client, Text("周末全场八折"), clientmsgid="promo-1") == mass.MassSent(
        first.msg_id, None, repeated=True
    )
    vip = tags.create(sim.client, "VIP")
    tags.tag_fans(sim.client, vip.id, sim.openids[:2])
    to_tag = mass.send_to_tag(sim.client, vip.id, Text("会员日"))
    to_list = mass.send_to_openids(sim.client, sim.openids[1:], Text("到店有礼"))
    assert to_list.msg_id == to_tag.msg_id + 1
    mass.preview(sim.client, sim.openids[0], Text("预览"))
    mass.delete(sim.client, to_list.msg_id)
    assert mass.status(sim.client, to_list.msg_id) == mass.MassStatus.DELETED
    assert [
        r["openid"] for r in sim.control.recorder(appid=sim.account.appid, kind="preview")
    ] == sim.openids[:1]


def test_mass_sends_refused(sim: Sim) -> None:
    mass.send_to_all(sim.client, Text("一"), clientmsgid="again")
    too_fast = refusal(lambda: mass.send_to_all(sim.client, Text("一"), clientmsgid="again"))
    assert too_fast.errcode == 45066
    assert_said(
        too_fast,
        "WeChat refused: the same mass send was retried within a minute; wait a minute (errcode 45066).",
        "微信拒绝：同一群发在一分钟内重试，请稍等一分钟 (errcode 45066)。",
    )
    one = refusal(lambda: mass.send_to_openids(sim.client, sim.openids[:1], Text("x")))
    assert isinstance(one, LimitError) and one.errcode == 40130
    long_id = refusal(lambda: mass.send_to_all(sim.client, Text("x"), clientmsgid="x" * 65))
    assert isinstance(long_id, LimitError) and long_id.errcode == 45067
    unknown = refusal(lambda: mass.status(sim.client, 987654))
    assert unknown.errcode == 40007


def test_template_messages_and_notifications(sim: Sim) -> None:
    templates.set_industries(sim.client, 1, 10)
    assert templates.industries(sim.client).primary[0]
    template_id = templates.add_template(sim.client, "TM00015")
    msgid = templates.send(
        sim.client,
        sim.openids[0],
        template_id,
        {"first": "您的订单已支付", "orderMoneySum": "88.00"},
        url="https://example.com/o/A1001",
    )
    (sent,) = _sent(sim, "template")
    assert sent == {
        "msgid": msgid,
        "touser": sim.openids[0],
        "template_id": template_id,
        "data": {"first": {"value": "您的订单已支付"}, "orderMoneySum": {"value": "88.00"}},
        "url": "https://example.com/o/A1001",
    }
    (template,) = templates.library(sim.client)
    assert (template.template_id, template.title) == (template_id, "订单支付成功")
    templates.remove_template(sim.client, template_id)
    assert templates.library(sim.client) == []

    pri = templates.add_subscription_template(sim.client, 1024, [1, 2], "门店预约")
    (sub,) = templates.subscription_templates(sim.client)
    assert (sub.template_id, sub.title) == (pri, "预约结果通知")
    sim.control.act(sim.account.appid, "subscribe_consent", sim.openids[0], template_id=pri)
    templates.notify(sim.client, sim.openids[0], pri, {"thing1": "洗牙", "time2": "2026-12-02 10:00"})
    (notified,) = _sent(sim, "subscribe_message")
    assert notified["template_id"] == pri and notified["data"] == {
        "thing1": {"value": "洗牙"},
        "time2": {"value": "2026-12-02 10:00"},
    }


def test_templates_refused(sim: Sim) -> None:
    gone = refusal(lambda: templates.remove_template(sim.client, "no-such-template"))
    assert gone.errcode == 40037
    assert_said(
        gone,
        "WeChat refused: WeChat does not know this template (errcode 40037).",
        "微信拒绝：微信不认识这个模板 (errcode 40037)。",
    )
    templates.set_industries(sim.client, 1, 10)
    pri = templates.add_subscription_template(sim.client, 563, [1, 2], "发货提醒")
    refused = refusal(lambda: templates.notify(sim.client, sim.openids[0], pri, {"character_string1": "A1"}))
    assert refused.errcode == 43101
    assert_said(
        refused,
        "WeChat refused: the fan has not agreed to receive this notification (errcode 43101).",
        "微信拒绝：该粉丝未同意接收此订阅通知 (errcode 43101)。",
    )
    assert _sent(sim, "subscribe_message") == []
