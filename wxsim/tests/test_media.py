"""Temporary media and permanent materials over HTTP: wechatpy's uploads and downloads, WeChat's refusals."""

from __future__ import annotations

import httpx
import pytest
from wechatpy.exceptions import WeChatClientException

from wxsim.app import MAX_BODY_BYTES
from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.sim_client import SimClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPG = b"\xff\xd8\xff\xe0" + b"\x01" * 300
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x02" * 500
MP3 = b"ID3\x03" + b"\x03" * 100


@pytest.fixture
def client(control: WxsimControl, wxsim_url: str) -> tuple[SimClient, dict[str, str]]:
    account = new_account(control)
    return SimClient(wxsim_url, account["appid"], account["secret"]), account


def test_temporary_media_round_trip_and_expiry(client, control: WxsimControl) -> None:
    wc, _ = client
    uploaded = wc.media.upload("image", ("poster.png", PNG, "image/png"))
    assert uploaded["type"] == "image" and uploaded["created_at"] == 1_760_000_000
    downloaded = wc.media.download(uploaded["media_id"])
    assert downloaded.content == PNG
    assert downloaded.headers["Content-Type"] == "image/png"
    assert 'filename="poster.png"' in downloaded.headers["Content-disposition"]
    video = wc.media.upload("video", ("clip.mp4", MP4, "video/mp4"))
    assert wc.media.download(video["media_id"])["video_url"].startswith("http://mmbiz.qpic.cn/")
    control.clock(advance=3 * 86400)  # temporary media live three days
    with pytest.raises(WeChatClientException) as raised:
        wc.media.download(uploaded["media_id"])
    assert raised.value.errcode == 40007


def test_permanent_materials(client) -> None:
    wc, _ = client
    image = wc.material.add("image", ("cover.jpg", JPG, "image/jpeg"))
    assert image["url"].startswith("http://mmbiz.qpic.cn/")
    voice = wc.material.add("voice", ("hello.mp3", MP3, "audio/mpeg"))
    assert "url" not in voice
    video = wc.material.add("video", ("tour.mp4", MP4, "video/mp4"), title="门店导览", introduction="一分钟")
    assert wc.material.get(image["media_id"]).content == JPG
    assert wc.material.get(video["media_id"]) == {
        "title": "门店导览",
        "description": "一分钟",
        "down_url": f"http://mmbiz.qpic.cn/wxsim/{video['media_id']}/0",
    }
    second = wc.material.add("image", ("second.png", PNG, "image/png"))
    listed = wc.material.batchget("image", 0, 1)
    assert listed["total_count"] == 2 and listed["item_count"] == 1
    assert listed["item"][0]["media_id"] == second["media_id"] and listed["item"][0]["name"] == "second.png"
    assert wc.material.get_count() == {"voice_count": 1, "video_count": 1, "image_count": 2, "news_count": 0}
    wc.material.delete(image["media_id"])
    assert wc.material.get_count()["image_count"] == 1
    with pytest.raises(WeChatClientException) as raised:
        wc.material.get(image["media_id"])
    assert raised.value.errcode == 40007
    url = wc.media.upload_image(("inline.jpg", JPG, "image/jpeg"))
    assert url.startswith("http://mmbiz.qpic.cn/")
    assert wc.material.get_count()["image_count"] == 1  # article images are not materials


def _upload(http: httpx.Client, token: str, kind: str, data: bytes, name: str = "f", path: str = "") -> dict:
    return http.post(
        path or "/cgi-bin/media/upload",
        params={"access_token": token, "type": kind},
        files={"media": (name, data, "application/octet-stream")},
    ).json()


def test_refusals(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    assert _upload(http, token, "document", PNG)["errcode"] == 40004
    assert _upload(http, token, "image", b"plain text, not an image")["errcode"] == 40005
    assert _upload(http, token, "thumb", PNG)["errcode"] == 40005  # a thumb is a JPG
    assert _upload(http, token, "thumb", JPG + b"\x00" * 64 * 1024)["errcode"] == 45001  # over 64 KB
    assert _upload(http, token, "voice", b"ID3" + b"\x00" * 2 * 1024 * 1024)["errcode"] == 45001
    assert (
        _upload(http, token, "image", JPG + b"\x00" * 1024 * 1024, path="/cgi-bin/media/uploadimg")["errcode"]
        == 45001
    )  # images inside articles: under 1 MB
    assert _upload(http, token, "image", PNG + b"\x00" * MAX_BODY_BYTES)["errcode"] == 45001
    no_file = http.post(
        "/cgi-bin/media/upload", params={"access_token": token, "type": "image"}, data={"other": "x"}
    ).json()
    assert no_file["errcode"] == 44001
    missing = http.get("/cgi-bin/media/get", params={"access_token": token, "media_id": "nope"}).json()
    assert missing["errcode"] == 40007
    assert (
        http.post(
            "/cgi-bin/material/batchget_material",
            params={"access_token": token},
            json={"type": "image", "count": 21},
        ).json()["errcode"]
        == 47001
    )
    video = http.post(
        "/cgi-bin/material/add_material",
        params={"access_token": token, "type": "video"},
        files={"media": ("v.mp4", MP4, "video/mp4")},
    ).json()
    assert video["errcode"] == 47001  # a permanent video needs its description (title, introduction)
    assert http.get("/cgi-bin/material/get_materialcount", params={"access_token": token}).json() == {
        "voice_count": 0,
        "video_count": 0,
        "image_count": 0,
        "news_count": 0,
    }


def test_unverified_accounts_have_no_material_management(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control, verified=False)
    token = token_for(http, account)
    assert _upload(http, token, "image", PNG)["errcode"] == 48001
    assert _upload(http, token, "image", PNG, path="/cgi-bin/material/add_material")["errcode"] == 48001
