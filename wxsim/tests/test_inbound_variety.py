"""Every message and event a fan can send, read back by wechatpy's parser (an independent oracle)."""

from __future__ import annotations

import time

import httpx
from wechatpy import parse_message

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture


def test_messages_and_menu_events_parse_as_wechat_sends_them(control: WxsimControl, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    appid, fan = account["appid"], "oVariety01"
    control.act(appid, "follow", fan)
    acts = [
        ("voice", {"media_id": "m_voice", "format": "amr", "recognition": "营业时间"}),
        ("video", {"media_id": "m_video", "thumb_media_id": "t_video"}),
        ("shortvideo", {"media_id": "m_short", "thumb_media_id": "t_short"}),
        ("scancode_push", {"key": "SCAN_1", "scan_type": "qrcode", "result": "https://shop.example/p/1"}),
        ("scancode_waitmsg", {"key": "SCAN_2", "scan_type": "barcode", "result": "EAN_13,6901234567892"}),
        ("pic_sysphoto", {"key": "PIC_1", "md5s": ["a" * 32]}),
        ("pic_photo_or_album", {"key": "PIC_2", "md5s": ["b" * 32, "c" * 32]}),
        ("pic_weixin", {"key": "PIC_3", "md5s": ["d" * 32]}),
        (
            "location_select",
            {"key": "LOC_1", "x": 31.2, "y": 121.5, "scale": 15, "label": "徐汇", "poiname": "门店"},
        ),
        ("view_miniprogram", {"pagepath": "pages/index/index", "menu_id": 400000001}),
    ]
    for action, detail in acts:
        assert control.act(appid, action, fan, **detail)["delivery"]["status"] == 200
    parsed = [parse_message(body.decode()) for _, body in state.requests[1:]]
    voice, video, short, push, wait, sysphoto, album, weixin, location, mini = parsed
    assert (voice.type, voice.media_id, voice.format, voice.recognition) == (
        "voice",
        "m_voice",
        "amr",
        "营业时间",
    )
    assert voice.id > 0 and voice.source == fan
    assert (video.type, video.media_id, video.thumb_media_id) == ("video", "m_video", "t_video")
    assert (short.type, short.media_id, short.thumb_media_id) == ("shortvideo", "m_short", "t_short")
    assert (push.event, push.key, push.scan_type, push.scan_result) == (
        "scancode_push",
        "SCAN_1",
        "qrcode",
        "https://shop.example/p/1",
    )
    assert (wait.event, wait.scan_type, wait.scan_result) == (
        "scancode_waitmsg",
        "barcode",
        "EAN_13,6901234567892",
    )
    assert (sysphoto.event, sysphoto.key, sysphoto.count) == ("pic_sysphoto", "PIC_1", 1)
    assert sysphoto.pictures == [{"PicMd5Sum": "a" * 32}]
    assert (album.event, album.count) == ("pic_photo_or_album", 2)
    assert [p["PicMd5Sum"] for p in album.pictures] == ["b" * 32, "c" * 32]
    assert weixin.event == "pic_weixin"
    assert (location.event, location.key, location.label, location.poiname) == (
        "location_select",
        "LOC_1",
        "徐汇",
        "门店",
    )
    assert location.location == ("31.2", "121.5")
    assert mini.type == "event" and mini._data["Event"] == "view_miniprogram"
    assert (mini._data["EventKey"], mini._data["MenuId"]) == ("pages/index/index", "400000001")


def test_voice_opens_the_48_hour_window_and_scancode_the_one_minute_window(
    http: httpx.Client, control: WxsimControl
) -> None:
    account = new_account(control)
    token = token_for(http, account)
    voice_fan, scan_fan = control.add_fans(account["appid"], count=2)
    path = "/cgi-bin/message/custom/send"

    def send(openid: str) -> int:
        body = {"touser": openid, "msgtype": "text", "text": {"content": "您好"}}
        return int(http.post(path, params={"access_token": token}, json=body).json()["errcode"])

    control.act(account["appid"], "voice", voice_fan, media_id="m1")
    control.act(account["appid"], "scancode_push", scan_fan, key="SCAN", result="x")
    assert [send(scan_fan) for _ in range(4)] == [0, 0, 0, 45047]
    control.clock(advance=3600)
    token = token_for(http, account)
    assert send(voice_fan) == 0 and send(scan_fan) == 45015


def test_subscription_consent_change_and_sent_events(http: httpx.Client, control: WxsimControl, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    appid, fan = account["appid"], "oNotify01"
    control.act(appid, "follow", fan)
    template = http.post(
        "/wxsim/templates",
        json={"appid": appid, "kind": "subscribe", "tid": 1024, "kidList": [1, 2], "sceneDesc": "预约结果"},
    ).json()["template_id"]
    unknown = http.post(
        "/wxsim/act", json={"appid": appid, "action": "subscribe_consent", "openid": fan, "template_id": "T0"}
    )
    assert unknown.status_code == 400
    control.act(appid, "subscribe_consent", fan, template_id=template, accept=True)
    control.act(appid, "subscribe_consent", fan, template_id=template, accept=True)
    control.act(appid, "subscribe_msg_change", fan, template_id=template)
    token = token_for(http, account)
    body = {"touser": fan, "template_id": template, "data": {"thing1": {"value": "洗牙"}}}
    send = "/cgi-bin/message/subscribe/bizsend"
    assert http.post(send, params={"access_token": token}, json=body).json()["errcode"] == 43101
    control.act(appid, "subscribe_consent", fan, template_id=template, accept=True)
    assert http.post(send, params={"access_token": token}, json=body).json()["errcode"] == 0
    wrong = {**body, "template_id": "not-a-template"}
    assert http.post(send, params={"access_token": token}, json=wrong).json()["errcode"] == 40037
    deliveries = 6  # follow, two consents, the change, a consent, the sent report
    deadline = time.monotonic() + 10
    while len(state.requests) < deliveries and time.monotonic() < deadline:
        time.sleep(0.05)
    bodies = [b.decode() for _, b in state.requests]
    change = next(b for b in bodies if "subscribe_msg_change_event" in b)
    assert f"<TemplateId><![CDATA[{template}]]></TemplateId>" in change
    assert "<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>" in change
    sent = next(b for b in bodies if "subscribe_msg_sent_event" in b)
    assert "<ErrorCode>0</ErrorCode>" in sent and "<ErrorStatus><![CDATA[success]]></ErrorStatus>" in sent
