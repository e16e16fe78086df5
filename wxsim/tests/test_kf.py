"""Customer-service accounts and sessions, driven by wechatpy's customer-service API."""

from __future__ import annotations

import time

import httpx
import pytest
from wechatpy import parse_message
from wechatpy.exceptions import WeChatClientException

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account
from wxsim.tests.sim_client import SimClient
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture

AGENT, OTHER = "alice@shop_gh", "bob@shop_gh"


def _errcode(call, *args) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(WeChatClientException) as raised:
        call(*args)
    return int(raised.value.errcode)


def _events(state, count: int) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while len(state.requests) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [parse_message(body.decode()) for _, body in state.requests]


def test_accounts(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    wc.customservice.add_account(AGENT, "小爱", "secret-not-kept")
    assert _errcode(wc.customservice.add_account, AGENT, "小爱", "x") == 65406
    assert _errcode(wc.customservice.add_account, "elevenchars@shop_gh", "客服", "x") == 65404
    assert _errcode(wc.customservice.add_account, "no-at-sign", "客服", "x") == 65404
    assert _errcode(wc.customservice.add_account, OTHER, "十七个字的昵称十七个字的昵称十七个", "x") == 65403
    wc.customservice.add_account(OTHER, "小博", "x")
    wc.customservice.update_account(OTHER, "博博", "x")
    assert _errcode(wc.customservice.update_account, "carol@shop_gh", "卡罗", "x") == 65401
    listed = wc.customservice.get_accounts()
    assert [(a["kf_account"], a["kf_nick"], a["kf_id"]) for a in listed] == [
        (AGENT, "小爱", 1001),
        (OTHER, "博博", 1002),
    ]
    assert wc.customservice.get_online_accounts() == []
    control.kf_online(account["appid"], AGENT)
    assert wc.customservice.get_online_accounts() == [
        {"kf_account": AGENT, "status": 1, "kf_id": 1001, "accepted_case": 0}
    ]
    wc.customservice.delete_account(OTHER)
    assert [a["kf_account"] for a in wc.customservice.get_accounts()] == [AGENT]
    assert _errcode(wc.customservice.delete_account, OTHER) == 65401


def test_sessions_through_the_api_and_their_events(control: WxsimControl, wxsim_url: str, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    fan, other_fan = control.add_fans(account["appid"], count=2)
    for name in (AGENT, OTHER):
        wc.customservice.add_account(name, name[:3], "x")
    assert _errcode(wc.customservice.create_session, fan, AGENT) == 65415  # offline
    for name in (AGENT, OTHER):
        control.kf_online(account["appid"], name)
    wc.customservice.create_session(fan, AGENT)
    wc.customservice.create_session(fan, AGENT)  # exists already: 0, and no second event
    assert _errcode(wc.customservice.create_session, fan, OTHER) == 65414
    assert _errcode(wc.customservice.create_session, "oNobody", AGENT) == 40003
    session = wc.customservice.get_session(fan)
    assert session["kf_account"] == AGENT and session["createtime"] == 1_760_000_000
    assert wc.customservice.get_session(other_fan)["kf_account"] == ""
    assert wc.customservice.get_session_list(AGENT) == [{"createtime": 1_760_000_000, "openid": fan}]
    assert _errcode(wc.customservice.close_session, fan, OTHER) == 65413
    wc.customservice.close_session(fan, AGENT)
    assert wc.customservice.get_session_list(AGENT) == []
    events = _events(state, 2)
    assert [(e.event, e.account, e.source) for e in events] == [
        ("kf_create_session", AGENT, fan),
        ("kf_close_session", AGENT, fan),
    ]


def test_transfer_reply_queue_accept_switch_and_forwarding(
    http: httpx.Client,
    control: WxsimControl,
    wxsim_url: str,
    sink,  # noqa: F811
) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    for name in (AGENT, OTHER):
        wc.customservice.add_account(name, name[:3], "x")
        control.kf_online(account["appid"], name)
    (fan,) = control.add_fans(account["appid"])
    appid = account["appid"]
    state.reply = (
        f"<xml><ToUserName><![CDATA[{fan}]]></ToUserName><FromUserName><![CDATA[{account['original_id']}]]>"
        "</FromUserName><CreateTime>1760000000</CreateTime>"
        "<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>"
    )
    answer = control.act(appid, "text", fan, content="我要人工")
    assert answer["kf_session"] is None
    waiting = wc.customservice.get_wait_case()
    assert waiting == {"count": 1, "waitcaselist": [{"latest_time": 1_760_000_000, "openid": fan}]}
    state.reply = "success"
    control.clock(advance=5)
    # Waiting fans still reach the message server.
    assert control.act(appid, "text", fan, content="还在吗")["delivery"]["status"] == 200
    assert wc.customservice.get_wait_case()["waitcaselist"][0]["latest_time"] == 1_760_000_005
    accepted = control.act(appid, "kf_accept", fan, kf_account=AGENT)
    assert accepted["delivery"]["status"] == 200
    assert wc.customservice.get_wait_case()["count"] == 0
    # In a session the fan's messages go to the agent, not to the message server.
    delivered = len(state.requests)
    forwarded = control.act(appid, "text", fan, content="订单号 123")
    assert forwarded["forwarded_to_kf"] == AGENT and forwarded["delivery"] is None
    assert len(state.requests) == delivered
    control.act(appid, "kf_switch", fan, kf_account=OTHER)
    assert wc.customservice.get_session(fan)["kf_account"] == OTHER
    # Thirty minutes without a close: WeChat stops forwarding and the message server hears the fan again.
    control.clock(advance=1801)
    assert control.act(appid, "text", fan, content="人呢")["delivery"]["status"] == 200
    assert wc.customservice.get_session(fan)["kf_account"] == ""
    bodies = [parse_message(body.decode()) for _, body in state.requests]
    kinds = [(m.type, getattr(m, "event", None)) for m in bodies]
    assert kinds == [
        ("text", None),
        ("text", None),
        ("event", "kf_create_session"),
        ("event", "kf_switch_session"),
        ("text", None),
    ]
    switch = bodies[3]
    assert (switch.from_account, switch.to_account) == (AGENT, OTHER)


def test_a_transfer_to_a_named_online_agent_opens_the_session_at_once(
    control: WxsimControl,
    wxsim_url: str,
    sink,  # noqa: F811
) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    wc.customservice.add_account(AGENT, "小爱", "x")
    control.kf_online(account["appid"], AGENT)
    (fan,) = control.add_fans(account["appid"])
    state.reply = (
        f"<xml><ToUserName><![CDATA[{fan}]]></ToUserName><FromUserName><![CDATA[{account['original_id']}]]>"
        "</FromUserName><CreateTime>1760000000</CreateTime><MsgType><![CDATA[transfer_customer_service]]>"
        f"</MsgType><TransInfo><KfAccount><![CDATA[{AGENT}]]></KfAccount></TransInfo></xml>"
    )
    assert control.act(account["appid"], "text", fan, content="找小爱")["kf_session"] == AGENT
    assert wc.customservice.get_session(fan)["kf_account"] == AGENT
    created = parse_message(state.requests[-1][1].decode())
    assert (created.event, created.account) == ("kf_create_session", AGENT)
    assert control.recorder(appid=account["appid"], kind="passive_reply") == []
    assert len(control.recorder(appid=account["appid"], kind="transfer_customer_service")) == 1
