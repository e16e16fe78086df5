"""Template-message and subscription-notification template libraries, driven by wechatpy and HTTP."""

from __future__ import annotations

import httpx
import pytest
from wechatpy.exceptions import WeChatClientException

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.sim_client import SimClient


def _errcode(call, *args) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(WeChatClientException) as raised:
        call(*args)
    return int(raised.value.errcode)


def test_template_library(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    (fan,) = control.add_fans(account["appid"])
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    assert _errcode(wc.template.get, "TM00015") == 45027  # no industry chosen yet
    assert _errcode(wc.template.set_industry, 1, 42) == 40102
    wc.template.set_industry(1, 10)
    industry = wc.template.get_industry()
    assert industry["primary_industry"] == {"first_class": "IT科技", "second_class": "互联网|电子商务"}
    assert industry["secondary_industry"] == {"first_class": "餐饮", "second_class": "餐饮"}
    assert _errcode(wc.template.set_industry, 2, 10) == 43100  # once a month
    assert _errcode(wc.template.get, "WXSIM_POINTS") == 45027  # 消费品 is not one of the two
    assert _errcode(wc.template.get, "TM99999") == 40037
    paid = wc.template.get("TM00015")
    booked = wc.template.get("WXSIM_BOOKING")
    listed = wc.template.get_all_private_template()["template_list"]
    assert [(t["template_id"], t["title"]) for t in listed] == [
        (paid, "订单支付成功"),
        (booked, "预约成功通知"),
    ]
    data = {"first": {"value": "支付成功"}}
    assert wc.message.send_template(fan, paid, data)["errcode"] == 0
    assert (
        _errcode(wc.message.send_template, fan, "TM00015", data) == 40037
    )  # a short id is not a template id
    wc.template.del_private_template(paid)
    assert _errcode(wc.message.send_template, fan, paid, data) == 40037
    assert _errcode(wc.template.del_private_template, paid) == 40037


def test_twenty_five_templates_at_most(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    wc.template.set_industry(1, 10)
    for _ in range(25):
        wc.template.get("TM00015")
    assert _errcode(wc.template.get, "TM00015") == 45026


def test_subscription_notification_templates(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)

    def add(body: dict) -> dict:
        return http.post("/wxaapi/newtmpl/addtemplate", params={"access_token": token}, json=body).json()

    good = {"tid": 563, "kidList": [1, 3], "sceneDesc": "订单发货"}
    assert add({**good, "tid": 9})["errcode"] == 200014
    assert add({**good, "kidList": [1]})["errcode"] == 200020
    assert add({**good, "kidList": [1, 2, 3, 4, 9]})["errcode"] == 200020
    assert add({**good, "sceneDesc": "一二三四五六七八九十一二三四五六"})["errcode"] == 200021
    created = add(good)
    assert created["errcode"] == 0
    listed = http.get("/wxaapi/newtmpl/gettemplate", params={"access_token": token}).json()
    assert listed["data"] == [
        {
            "priTmplId": created["priTmplId"],
            "title": "订单发货提醒",
            "content": "订单编号:{{character_string1.DATA}}\n快递单号:{{character_string3.DATA}}",
            "example": "",
            "type": 2,
        }
    ]
    for _ in range(49):
        assert add(good)["errcode"] == 0
    assert add(good)["errcode"] == 200012
    delete = {"priTmplId": created["priTmplId"]}
    assert (
        http.post("/wxaapi/newtmpl/deltemplate", params={"access_token": token}, json=delete).json()[
            "errcode"
        ]
        == 0
    )
    assert (
        http.post("/wxaapi/newtmpl/deltemplate", params={"access_token": token}, json=delete).json()[
            "errcode"
        ]
        == 40037
    )
