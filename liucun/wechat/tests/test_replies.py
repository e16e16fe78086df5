"""Passive reply rendering and the platform's limits."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring

from liucun.wechat.errors import ReplyLimitError
from liucun.wechat.replies import (
    Article,
    ImageReply,
    MusicReply,
    NewsReply,
    TextReply,
    TransferCustomerServiceReply,
    VideoReply,
    VoiceReply,
)

HEAD = {"to_user": "oFan", "from_user": "gh_abc", "create_time": 1700000000}


def _fields(xml: str) -> dict[str, object]:
    root = fromstring(xml)
    assert root.find("ToUserName").text == "oFan" and root.find("FromUserName").text == "gh_abc"
    assert root.find("CreateTime").text == "1700000000"
    return {child.tag: child for child in root}


def test_text_with_cdata_terminator_survives() -> None:
    xml = TextReply("欢迎]]>光临").render(**HEAD)
    assert _fields(xml)["Content"].text == "欢迎]]>光临"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reply", "msg_type", "check"),
    [
        (ImageReply("m1"), "image", lambda f: f["Image"].find("MediaId").text == "m1"),
        (VoiceReply("m2"), "voice", lambda f: f["Voice"].find("MediaId").text == "m2"),
        (VideoReply("m3", "标题", "描述"), "video", lambda f: f["Video"].find("Title").text == "标题"),
        (
            MusicReply("t", "d", "http://m", "http://hq", "th"),
            "music",
            lambda f: f["Music"].find("HQMusicUrl").text == "http://hq",
        ),
        (
            TransferCustomerServiceReply("kf1@gh"),
            "transfer_customer_service",
            lambda f: f["TransInfo"].find("KfAccount").text == "kf1@gh",
        ),
    ],
)
def test_each_reply_type(reply: object, msg_type: str, check: object) -> None:
    fields = _fields(reply.render(**HEAD))  # type: ignore[attr-defined]
    assert fields["MsgType"].text == msg_type  # type: ignore[union-attr]
    assert check(fields)  # type: ignore[operator]


def test_news_limits() -> None:
    article = Article("标题", "描述", "http://p", "http://u")
    one = NewsReply((article,)).render(**HEAD)
    assert _fields(one)["ArticleCount"].text == "1"  # type: ignore[union-attr]
    eight = NewsReply((article,) * 8)
    with pytest.raises(ReplyLimitError, match="only 1"):
        eight.render(**HEAD)
    assert _fields(eight.render(**HEAD, answering_message=False))["ArticleCount"].text == "8"  # type: ignore[union-attr]
    with pytest.raises(ReplyLimitError):
        NewsReply((article,) * 9)
    with pytest.raises(ReplyLimitError):
        NewsReply(())


def test_text_limits() -> None:
    with pytest.raises(ReplyLimitError):
        TextReply("   ")
    with pytest.raises(ReplyLimitError, match="2048"):
        TextReply("字" * 683)  # 2049 bytes
    TextReply("字" * 682)
