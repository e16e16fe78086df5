"""wxsim driven by an independent client: wechatpy's WeChatClient, pointed at wxsim."""

from __future__ import annotations

import pytest
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account


class SimClient(WeChatClient):
    """wechatpy hard-codes WeChat's host for the token; everything else follows API_BASE_URL."""

    def __init__(self, base: str, appid: str, secret: str) -> None:
        super().__init__(appid, secret)
        self.base = base
        self.API_BASE_URL = f"{base}/cgi-bin/"

    def fetch_access_token(self):  # type: ignore[no-untyped-def]
        return self._fetch_access_token(
            url=f"{self.base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


@pytest.fixture
def client(control: WxsimControl, wxsim_url: str) -> tuple[SimClient, dict[str, str]]:
    account = new_account(control)
    return SimClient(wxsim_url, account["appid"], account["secret"]), account


def test_users(client, control: WxsimControl) -> None:
    wc, account = client
    openids = control.add_fans(account["appid"], count=5)
    control.add_fans(account["appid"], count=2, following=False)
    followers = wc.user.get_followers()
    assert followers["total"] == 5 and followers["data"]["openid"] == openids
    info = wc.user.get(openids[0])
    assert info["subscribe"] == 1 and info["openid"] == openids[0] and info["unionid"]
    batch = wc.user.get_batch([openids[1], openids[2]])
    assert [u["openid"] for u in batch] == openids[1:3]
    wc.user.update_remark(openids[0], "门店会员")
    assert wc.user.get(openids[0])["remark"] == "门店会员"
    with pytest.raises(WeChatClientException) as raised:
        wc.user.get("o_not_a_fan")
    assert raised.value.errcode == 40003


def test_tags(client, control: WxsimControl) -> None:
    wc, account = client
    openids = control.add_fans(account["appid"], count=3)
    tag = wc.tag.create("高价值")
    assert wc.tag.get()[-1]["name"] == "高价值"
    wc.tag.tag_user(tag["id"], openids[:2])
    assert wc.tag.get_user_tag(openids[0]) == [tag["id"]]
    assert sorted(wc.tag.get_tag_users(tag["id"])["data"]["openid"]) == sorted(openids[:2])
    wc.tag.untag_user(tag["id"], openids[0])
    assert wc.tag.get_user_tag(openids[0]) == []
    wc.tag.update(tag["id"], "重点客户")
    wc.tag.delete(tag["id"])
    assert all(t["id"] != tag["id"] for t in wc.tag.get())


def test_customer_service_message_inside_the_window(client, control: WxsimControl) -> None:
    wc, account = client
    (openid,) = control.add_fans(account["appid"])
    with pytest.raises(WeChatClientException) as raised:
        wc.message.send_text(openid, "你好")
    assert raised.value.errcode == 45015
    control.add_account  # noqa: B018 - the fan writes to us first:
    control.act(account["appid"], "text", openid, content="在吗")
    wc.message.send_text(openid, "在的，请问有什么可以帮您？")
    sent = control.recorder(appid=account["appid"], openid=openid, kind="customer_service")
    assert sent[0]["detail"]["text"]["content"] == "在的，请问有什么可以帮您？"


def test_menu_qrcode_and_pushes(client, control: WxsimControl) -> None:
    wc, account = client
    openids = control.add_fans(account["appid"], count=2)
    wc.menu.create({"button": [{"type": "click", "name": "积分", "key": "MENU_POINTS"}]})
    assert wc.menu.get()["menu"]["button"][0]["key"] == "MENU_POINTS"
    wc.menu.delete()
    assert wc.menu.get() is None  # wechatpy turns 46003 "menu no exist" into None
    ticket = wc.qrcode.create(
        {
            "expire_seconds": 3600,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "store_042"}},
        }
    )
    assert ticket["expire_seconds"] == 3600 and ticket["ticket"].startswith("gQ")
    sent = wc.message.send_mass_text(None, "会员日积分翻倍", is_to_all=True)
    assert sent["msg_id"]
    assert len(control.recorder(appid=account["appid"], kind="mass")) == 2
    wc.template.set_industry(10, 31)
    template_id = wc.template.get("WXSIM_BOOKING")  # api_add_template
    template = wc.message.send_template(openids[0], template_id, {"first": {"value": "预约成功"}})
    assert template["msgid"]
