"""Mass sends, templates, subscription notifications, menus, QR codes, OAuth and datacube over HTTP."""

from __future__ import annotations

import time

import httpx
from wechatpy.crypto import WeChatCrypto

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture


def _post(http: httpx.Client, path: str, token: str, body: object) -> dict:
    return http.post(path, params={"access_token": token}, json=body).json()


TEXT = {"msgtype": "text", "text": {"content": "本周会员日，积分翻倍"}}


def test_subscription_account_sends_once_a_day_and_clientmsgid_is_idempotent(
    http, control: WxsimControl
) -> None:
    account = new_account(control, account_type="subscription")
    token = token_for(http, account)
    control.add_fans(account["appid"], count=5)
    first = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token,
        {**TEXT, "filter": {"is_to_all": True}, "clientmsgid": "push-2026-11-24"},
    )
    assert first["errcode"] == 0
    again = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token,
        {**TEXT, "filter": {"is_to_all": True}, "clientmsgid": "push-2026-11-24"},
    )
    assert again["errcode"] == 45066  # a retry within a minute
    control.clock(advance=120)
    again = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token,
        {**TEXT, "filter": {"is_to_all": True}, "clientmsgid": "push-2026-11-24"},
    )
    assert again["errcode"] == 45065 and again["msg_id"] == first["msg_id"]
    second = _post(http, "/cgi-bin/message/mass/sendall", token, {**TEXT, "filter": {"is_to_all": True}})
    assert second["errcode"] == 45028
    received = control.recorder(appid=account["appid"], kind="mass")
    assert len(received) == 5 and not any(e["detail"]["targeted"] for e in received)
    assert (
        _post(
            http,
            "/cgi-bin/message/mass/sendall",
            token,
            {**TEXT, "clientmsgid": "x" * 65, "filter": {"is_to_all": True}},
        )["errcode"]
        == 45067
    )
    assert (
        _post(http, "/cgi-bin/message/mass/get", token, {"msg_id": first["msg_id"]})["msg_status"]
        == "SEND_SUCCESS"
    )


def test_service_account_fans_get_four_a_month(http, control: WxsimControl) -> None:
    account = new_account(control, account_type="service")
    token = token_for(http, account)
    openids = control.add_fans(account["appid"], count=3)
    for week in range(4):
        body = {**TEXT, "touser": openids, "clientmsgid": f"week-{week}"}
        assert _post(http, "/cgi-bin/message/mass/send", token, body)["errcode"] == 0
    body = {**TEXT, "touser": openids, "clientmsgid": "week-5"}
    assert _post(http, "/cgi-bin/message/mass/send", token, body)["errcode"] == 45028


def test_job_finish_reports_reach_the_message_server(http, control: WxsimControl, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="safe")
    token = token_for(http, account)
    openids = control.add_fans(account["appid"], count=4)
    tag = _post(http, "/cgi-bin/tags/create", token, {"tag": {"name": "会员"}})["tag"]["id"]
    _post(http, "/cgi-bin/tags/members/batchtagging", token, {"openid_list": openids[:3], "tagid": tag})
    sent = _post(
        http, "/cgi-bin/message/mass/sendall", token, {**TEXT, "filter": {"is_to_all": False, "tag_id": tag}}
    )
    template_id = http.post(
        "/wxsim/templates", json={"appid": account["appid"], "template_id_short": "WXSIM_BOOKING"}
    ).json()["template_id"]
    template = _post(
        http,
        "/cgi-bin/message/template/send",
        token,
        {"touser": openids[0], "template_id": template_id, "data": {"first": {"value": "预约成功"}}},
    )
    assert template["errcode"] == 0
    deadline = time.monotonic() + 10
    while len(state.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    crypto = WeChatCrypto(account["token"], account["encoding_aes_key"], account["appid"])
    bodies = [
        crypto.decrypt_message(b.decode(), q["msg_signature"], q["timestamp"], q["nonce"])
        for q, b in state.requests
    ]
    mass = next(b for b in bodies if "MASSSENDJOBFINISH" in b)
    assert all(e["detail"]["targeted"] for e in control.recorder(appid=account["appid"], kind="mass"))
    assert f"<MsgID>{sent['msg_id']}</MsgID>" in mass and "<TotalCount>3</TotalCount>" in mass
    assert any("TEMPLATESENDJOBFINISH" in b and f"<MsgID>{template['msgid']}</MsgID>" in b for b in bodies)


def test_subscription_notifications_need_consent(http, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    control.act(account["appid"], "follow", "oConsent1")
    subscribe_template = {"appid": account["appid"], "kind": "subscribe", "tid": 563, "kidList": [1, 2]}
    template = http.post("/wxsim/templates", json={**subscribe_template, "sceneDesc": "发货通知"}).json()
    body = {
        "touser": "oConsent1",
        "template_id": template["template_id"],
        "data": {"thing2": {"value": "顺丰"}},
    }
    assert _post(http, "/cgi-bin/message/subscribe/bizsend", token, body)["errcode"] == 43101
    control.act(
        account["appid"], "subscribe_consent", "oConsent1", template_id=body["template_id"], accept=True
    )
    assert _post(http, "/cgi-bin/message/subscribe/bizsend", token, body)["errcode"] == 0
    assert (
        _post(http, "/cgi-bin/message/subscribe/bizsend", token, body)["errcode"] == 43101
    )  # one per consent


def test_menus(http, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    (openid,) = control.add_fans(account["appid"])
    good = {
        "button": [
            {"type": "click", "name": "积分", "key": "MENU_POINTS"},
            {"name": "服务", "sub_button": [{"type": "view", "name": "预约", "url": "https://x.example/b"}]},
        ]
    }
    assert (
        _post(http, "/cgi-bin/menu/addconditional", token, {**good, "matchrule": {"tag_id": "100"}})[
            "errcode"
        ]
        == 65303
    )
    assert _post(http, "/cgi-bin/menu/create", token, good)["errcode"] == 0
    assert _post(http, "/cgi-bin/menu/create", token, {"button": good["button"] * 2})["errcode"] == 40016
    assert (
        _post(http, "/cgi-bin/menu/create", token, {"button": [{"type": "bogus", "name": "x", "key": "k"}]})[
            "errcode"
        ]
        == 40017
    )
    assert (
        _post(http, "/cgi-bin/menu/addconditional", token, {**good, "matchrule": {"sex": "1"}})["errcode"]
        == 65320
    )
    tag = _post(http, "/cgi-bin/tags/create", token, {"tag": {"name": "VIP"}})["tag"]["id"]
    vip_menu = {
        "button": [{"type": "click", "name": "VIP专享", "key": "VIP"}],
        "matchrule": {"tag_id": str(tag)},
    }
    menu_id = _post(http, "/cgi-bin/menu/addconditional", token, vip_menu)["menuid"]
    assert (
        _post(http, "/cgi-bin/menu/trymatch", token, {"user_id": openid})["button"][0]["key"] == "MENU_POINTS"
    )
    _post(http, "/cgi-bin/tags/members/batchtagging", token, {"openid_list": [openid], "tagid": tag})
    assert _post(http, "/cgi-bin/menu/trymatch", token, {"user_id": openid})["button"][0]["key"] == "VIP"
    assert (
        http.get("/cgi-bin/menu/get", params={"access_token": token}).json()["conditionalmenu"][0]["menuid"]
        == menu_id
    )


def test_qrcodes(http, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    temp = _post(
        http,
        "/cgi-bin/qrcode/create",
        token,
        {
            "expire_seconds": 9999999,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "store_001"}},
        },
    )
    assert temp["expire_seconds"] == 2592000
    perm = _post(
        http,
        "/cgi-bin/qrcode/create",
        token,
        {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100001}}},
    )
    assert perm["errcode"] == 40097
    image = http.get("/cgi-bin/showqrcode", params={"ticket": temp["ticket"]})
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    control.clock(advance=2592001)
    assert http.get("/cgi-bin/showqrcode", params={"ticket": temp["ticket"]}).status_code == 404


def test_oauth_for_h5_pages(http, control: WxsimControl) -> None:
    account = new_account(control)
    (openid,) = control.add_fans(account["appid"])
    answer = http.get(
        "/connect/oauth2/authorize",
        params={
            "appid": account["appid"],
            "redirect_uri": "https://shop.example/h5/points",
            "response_type": "code",
            "scope": "snsapi_base",
            "state": "s1",
            "wxsim_openid": openid,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 302
    code = httpx.URL(answer.headers["location"]).params["code"]
    params = {
        "appid": account["appid"],
        "secret": account["secret"],
        "code": code,
        "grant_type": "authorization_code",
    }
    assert http.get("/sns/oauth2/access_token", params=params).json()["openid"] == openid
    assert http.get("/sns/oauth2/access_token", params=params).json()["errcode"] == 40163


def test_datacube_from_ground_truth(http, control: WxsimControl, sink) -> None:  # noqa: F811
    url, _ = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    control.clock(set=1_760_000_000)  # 2025-10-09 in China
    control.act(account["appid"], "follow", "oA", scene="store_1")
    control.act(account["appid"], "follow", "oB")
    control.act(account["appid"], "unfollow", "oA")
    control.clock(advance=86400)
    control.act(account["appid"], "follow", "oC", scene="store_1")
    control.clock(advance=86400 * 2)
    token = token_for(http, account)
    span = {"begin_date": "2025-10-09", "end_date": "2025-10-10"}
    summary = _post(http, "/datacube/getusersummary", token, span)["list"]
    assert {(i["ref_date"], i["user_source"], i["new_user"], i["cancel_user"]) for i in summary} == {
        ("2025-10-09", 0, 1, 0),
        ("2025-10-09", 30, 1, 1),
        ("2025-10-10", 30, 1, 0),
    }
    cumulate = _post(http, "/datacube/getusercumulate", token, span)["list"]
    assert [c["cumulate_user"] for c in cumulate] == [1, 2]
    assert (
        _post(
            http, "/datacube/getusersummary", token, {"begin_date": "2025-10-01", "end_date": "2025-10-10"}
        )["errcode"]
        == 61501
    )
