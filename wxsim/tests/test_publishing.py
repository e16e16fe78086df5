"""Drafts, free publishing with its PUBLISHJOBFINISH callback, and mpnews mass sends that name a draft."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import httpx
import pytest
from wechatpy.exceptions import WeChatClientException

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.sim_client import SimClient
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture

JPG = b"\xff\xd8\xff\xe0" + b"\x01" * 300


def _post(http: httpx.Client, path: str, token: str, body: object) -> dict:
    return http.post(path, params={"access_token": token}, json=body).json()


def _cover(http: httpx.Client, token: str) -> str:
    answer = http.post(
        "/cgi-bin/material/add_material",
        params={"access_token": token, "type": "image"},
        files={"media": ("cover.jpg", JPG, "image/jpeg")},
    ).json()
    return str(answer["media_id"])


def article(cover: str, title: str = "会员日", **extra: object) -> dict:
    return {"title": title, "content": "<p>本周六会员日，积分翻倍。</p>", "thumb_media_id": cover, **extra}


def _wait_for(state, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(state.requests) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_draft_lifecycle(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    cover = _cover(http, token)
    added = _post(http, "/cgi-bin/draft/add", token, {"articles": [article(cover), article(cover, "第二篇")]})
    media_id = added["media_id"]
    got = _post(http, "/cgi-bin/draft/get", token, {"media_id": media_id})["news_item"]
    assert [a["title"] for a in got] == ["会员日", "第二篇"]
    assert got[0]["digest"] == "<p>本周六会员日，积分翻倍。</p>"  # the first 54 characters when none is given
    assert got[0]["thumb_url"].startswith("http://mmbiz.qpic.cn/") and got[0]["url"]
    updated = _post(
        http,
        "/cgi-bin/draft/update",
        token,
        {"media_id": media_id, "index": 1, "articles": article(cover, "改")},
    )
    assert updated == {"errcode": 0, "errmsg": "ok"}
    assert _post(http, "/cgi-bin/draft/get", token, {"media_id": media_id})["news_item"][1]["title"] == "改"
    listed = _post(http, "/cgi-bin/draft/batchget", token, {"offset": 0, "count": 20, "no_content": 1})
    assert listed["total_count"] == 1 and listed["item_count"] == 1
    assert (
        listed["item"][0]["media_id"] == media_id
        and "content" not in listed["item"][0]["content"]["news_item"][0]
    )
    assert http.get("/cgi-bin/draft/count", params={"access_token": token}).json() == {"total_count": 1}
    assert _post(http, "/cgi-bin/draft/delete", token, {"media_id": media_id}) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert _post(http, "/cgi-bin/draft/delete", token, {"media_id": media_id})["errcode"] == 0
    assert _post(http, "/cgi-bin/draft/get", token, {"media_id": media_id})["errcode"] == 40007


@pytest.mark.parametrize(
    ("articles", "errcode"),
    [
        ([], 44003),
        ([{"content": "x", "thumb_media_id": "COVER"}], 44003),
        ([{"title": "t", "thumb_media_id": "COVER"}], 44004),
        ([{"title": "题" * 33, "content": "x", "thumb_media_id": "COVER"}], 45003),
        ([{"title": "t", "content": "x", "digest": "摘" * 129, "thumb_media_id": "COVER"}], 45004),
        ([{"title": "t", "content": "x" * 20000, "thumb_media_id": "COVER"}], 45002),
        ([{"title": "t", "content": "x", "thumb_media_id": "COVER"}] * 9, 45008),
        ([{"title": "t", "content": "x", "thumb_media_id": "not-a-material"}], 40007),
    ],
)
def test_draft_refusals(http: httpx.Client, control: WxsimControl, articles: list, errcode: int) -> None:
    account = new_account(control)
    token = token_for(http, account)
    cover = _cover(http, token)
    body = {
        "articles": [
            {**a, "thumb_media_id": cover} if a.get("thumb_media_id") == "COVER" else a for a in articles
        ]
    }
    assert _post(http, "/cgi-bin/draft/add", token, body)["errcode"] == errcode
    assert http.get("/cgi-bin/draft/count", params={"access_token": token}).json() == {"total_count": 0}


def test_publish_and_its_callback(http: httpx.Client, control: WxsimControl, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    token = token_for(http, account)
    cover = _cover(http, token)
    media_id = _post(
        http, "/cgi-bin/draft/add", token, {"articles": [article(cover), article(cover, "下篇")]}
    )["media_id"]
    submitted = _post(http, "/cgi-bin/freepublish/submit", token, {"media_id": media_id})
    assert submitted["errcode"] == 0 and submitted["publish_id"] and submitted["msg_data_id"]
    _wait_for(state, 1)
    event = ET.fromstring(state.requests[0][1])
    assert event.findtext("FromUserName") == "mphelper" and event.findtext("Event") == "PUBLISHJOBFINISH"
    info = event.find("PublishEventInfo")
    assert info is not None
    assert info.findtext("publish_id") == submitted["publish_id"] and info.findtext("publish_status") == "0"
    assert [i.findtext("idx") for i in info.iter("item")] == ["1", "2"]
    status = _post(http, "/cgi-bin/freepublish/get", token, {"publish_id": submitted["publish_id"]})
    assert status["publish_status"] == 0 and status["article_id"] == info.findtext("article_id")
    assert status["article_detail"]["count"] == 2 and status["fail_idx"] == []
    article_id = status["article_id"]
    got = _post(http, "/cgi-bin/freepublish/getarticle", token, {"article_id": article_id})["news_item"]
    assert [a["title"] for a in got] == ["会员日", "下篇"] and not any(a["is_deleted"] for a in got)
    assert f"mid={submitted['msg_data_id']}&idx=2" in got[1]["url"]
    listed = _post(http, "/cgi-bin/freepublish/batchget", token, {"offset": 0, "count": 10})
    assert listed["total_count"] == 1 and listed["item"][0]["article_id"] == article_id
    assert (
        _post(http, "/cgi-bin/freepublish/delete", token, {"article_id": article_id, "index": 2})["errcode"]
        == 0
    )
    got = _post(http, "/cgi-bin/freepublish/getarticle", token, {"article_id": article_id})["news_item"]
    assert [a["is_deleted"] for a in got] == [False, True]
    assert _post(http, "/cgi-bin/freepublish/delete", token, {"article_id": article_id})["errcode"] == 0
    status = _post(http, "/cgi-bin/freepublish/get", token, {"publish_id": submitted["publish_id"]})
    assert status["publish_status"] == 5  # deleted after success
    assert _post(http, "/cgi-bin/freepublish/batchget", token, {"offset": 0, "count": 10})["total_count"] == 0
    assert _post(http, "/cgi-bin/freepublish/getarticle", token, {"article_id": "nope"})["errcode"] == 53600
    assert _post(http, "/cgi-bin/freepublish/submit", token, {"media_id": "nope"})["errcode"] == 40007


def test_mpnews_mass_send_names_a_draft(control: WxsimControl, wxsim_url: str, http: httpx.Client) -> None:
    account = new_account(control)
    control.add_fans(account["appid"], count=3)
    wc = SimClient(wxsim_url, account["appid"], account["secret"])
    token = token_for(http, account)
    with pytest.raises(WeChatClientException) as raised:
        wc.message.send_mass_article(None, "no-such-draft", is_to_all=True)
    assert raised.value.errcode == 40007
    assert control.recorder(appid=account["appid"], kind="mass") == []
    cover = _cover(http, token)
    media_id = _post(http, "/cgi-bin/draft/add", token, {"articles": [article(cover)]})["media_id"]
    sent = wc.message.send_mass_article(None, media_id, is_to_all=True)
    assert sent["msg_data_id"] == sent["msg_id"] * 10
    assert len(control.recorder(appid=account["appid"], kind="mass")) == 3
    publications = control.reads(account["appid"])["publications"]
    assert publications == [
        {
            "msg_data_id": sent["msg_data_id"],
            "sent_at": 1_760_000_000,
            "notified": True,
            "target_user": 3,
            "articles": ["会员日"],
            "deleted_idx": [],
        }
    ]


def test_a_seeded_draft_names_an_mpnews_send(
    control: WxsimControl, http: httpx.Client, wxsim_url: str
) -> None:
    account = new_account(control)
    control.add_fans(account["appid"], count=2)
    media_id = control.add_draft(account["appid"], "周末活动", "会员须知")
    token = token_for(http, account)
    got = _post(http, "/cgi-bin/draft/get", token, {"media_id": media_id})["news_item"]
    assert [a["title"] for a in got] == ["周末活动", "会员须知"]
    body = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert _post(http, "/cgi-bin/message/mass/sendall", token, body)["errcode"] == 0
    refused = httpx.post(
        f"{wxsim_url}/wxsim/drafts", json={"appid": account["appid"], "articles": [{"title": ""}]}
    )
    assert refused.status_code == 400 and "empty news data" in refused.json()["error"]
    assert http.get("/cgi-bin/draft/count", params={"access_token": token}).json() == {"total_count": 1}


def test_an_article_mass_send_reports_its_urls(control: WxsimControl, http: httpx.Client, sink) -> None:  # noqa: F811
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    control.add_fans(account["appid"], count=2)
    media_id = control.add_draft(account["appid"], "上篇", "下篇")
    token = token_for(http, account)
    body = {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    sent = _post(http, "/cgi-bin/message/mass/sendall", token, body)
    _wait_for(state, 1)
    event = ET.fromstring(state.requests[0][1])
    assert event.findtext("Event") == "MASSSENDJOBFINISH" and event.findtext("MsgID") == str(sent["msg_id"])
    result = event.find("ArticleUrlResult")
    assert result is not None and result.findtext("Count") == "2"
    assert [(i.findtext("ArticleIdx"), i.findtext("ArticleUrl")) for i in result.iter("item")] == [
        (
            str(n),
            f"https://mp.weixin.qq.com/s?__biz={account['appid']}&mid={sent['msg_data_id']}&idx={n}&sn=wxsim",
        )
        for n in (1, 2)
    ]
