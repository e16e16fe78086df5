"""The callback endpoint end to end: every fixture in every mode, exactly-once, refusals store nothing."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.test import Client

from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod
from liucun.testing.factories import make_account
from liucun.testing.wechat_peer import WeChatPeer

pytestmark = pytest.mark.django_db

FIXTURES = sorted((Path(__file__).parents[2] / "wechat" / "tests" / "fixtures").glob("*.xml"))
MODES = ["plaintext", "compatible", "safe"]


def _peer(account) -> WeChatPeer:
    return WeChatPeer(
        appid=account.appid,
        token=account.token,
        aes_key=account.encoding_aes_key,
        mode=account.encryption_mode,
    )


def _addressed(xml: str, account, openid: str = "oFanOpenid0000000000000001") -> str:
    xml = re.sub(
        r"<ToUserName><!\[CDATA\[.*?\]\]></ToUserName>",
        f"<ToUserName><![CDATA[{account.original_id}]]></ToUserName>",
        xml,
    )
    return re.sub(
        r"<FromUserName><!\[CDATA\[.*?\]\]></FromUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        xml,
    )


def _post(client: Client, request) -> object:
    return client.generic("POST", request.url, request.body, content_type="text/xml")


def _text(openid: str, msg_id: int, content: str = "你好", to: str = "gh_x", t: int = 1700000000) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _event(openid: str, event: str, t: int, to: str, key: str = "") -> str:
    key_part = f"<EventKey><![CDATA[{key}]]></EventKey>" if key else ""
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{t}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{key_part}</xml>"
    )


def test_there_is_a_fixture_for_every_type() -> None:
    names = {p.stem for p in FIXTURES}
    for kind in [
        "text",
        "image",
        "voice",
        "video",
        "shortvideo",
        "location",
        "link",
        "event.subscribe",
        "event.unsubscribe",
        "event.scan",
        "event.click",
        "event.view",
        "event.location",
        "event.masssendjobfinish",
        "event.templatesendjobfinish",
    ]:
        assert any(name == kind or name.startswith(kind + "_") for name in names), kind


@pytest.mark.parametrize("mode", MODES)
def test_url_verification_echoes_and_refuses_forgery(client: Client, mode: str) -> None:
    account = make_account(mode=mode)
    good = _peer(account).verification("echo-abc")
    response = client.get(good.url)
    assert response.status_code == 200
    assert response.content == b"echo-abc"
    forged = dict(good.query, signature="0" * 40)
    assert client.get(good.path, forged).status_code == 403


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_is_stored_once_and_answered(client: Client, mode: str, fixture: Path) -> None:
    account = make_account(mode=mode)
    peer = _peer(account)
    xml = _addressed(fixture.read_text(encoding="utf-8"), account)
    request = peer.sign(xml)
    answers = []
    for _ in range(4):  # the first delivery and WeChat's three retries
        response = _post(client, request)
        assert response.status_code == 200, response.content
        answers.append(peer.open_reply(response.content.decode()))
    assert Event.objects.filter(account=account).count() == 1
    event = Event.objects.get(account=account)
    assert fixture.stem == event.kind or fixture.stem.startswith(event.kind + "_")
    assert len(set(answers)) == 1
    if event.kind == "event.subscribe":
        assert account.welcome_text in answers[0]
        assert "<MsgType><![CDATA[text]]></MsgType>" in answers[0]
    else:
        assert answers[0] == "success"


@pytest.mark.parametrize("mode", MODES)
def test_safe_and_compatible_replies_are_encrypted_for_encrypted_deliveries(
    client: Client, mode: str
) -> None:
    account = make_account(mode=mode)
    peer = _peer(account)
    response = _post(client, peer.sign(_event("oA", "subscribe", 1700000000, account.original_id)))
    body = response.content.decode()
    assert ("<Encrypt>" in body) == (mode != "plaintext")
    assert account.welcome_text in peer.open_reply(body)


def test_forged_signature_is_refused_and_stores_nothing(client: Client, caplog) -> None:
    account = make_account(mode="safe")
    request = _peer(account).sign(_text("oA", 1, to=account.original_id))
    for key, value in [("signature", "f" * 40), ("msg_signature", "f" * 40)]:
        forged = dict(request.query, **{key: value})
        with caplog.at_level(logging.WARNING, logger="liucun.callback"):
            response = client.generic(
                "POST",
                f"{request.path}?{'&'.join(f'{k}={v}' for k, v in forged.items())}",
                request.body,
                content_type="text/xml",
            )
        assert response.status_code == 403
    missing = {k: v for k, v in request.query.items() if k != "signature"}
    response = client.generic(
        "POST",
        f"{request.path}?{'&'.join(f'{k}={v}' for k, v in missing.items())}",
        request.body,
        content_type="text/xml",
    )
    assert response.status_code == 403
    assert Event.objects.count() == 0
    assert Fan.objects.count() == 0
    refusals = [r for r in caplog.records if "callback refused" in r.getMessage()]
    assert len(refusals) == 3
    assert len(caplog.records) == 3  # one line per refusal, nothing else
    assert all(account.token not in r.getMessage() for r in caplog.records)


BAD_BODIES = {
    "not xml": b"this is not xml",
    "wrong root": b"<html><ToUserName>x</ToUserName></html>",
    "xxe": (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><ToUserName>&xxe;</ToUserName></xml>"
    ),
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<xml><Content>&lol2;</Content></xml>"
    ),
    "missing fields": b"<xml><MsgType>text</MsgType></xml>",
}


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_malformed_bodies_are_refused_and_store_nothing(client: Client, mode: str, name: str) -> None:
    account = make_account(mode=mode)
    request = _peer(account).sign(BAD_BODIES[name].decode())
    response = _post(client, request)
    assert 400 <= response.status_code < 500
    assert Event.objects.count() == 0


def test_oversized_body_is_refused(client: Client, settings) -> None:
    settings.LIUCUN_CALLBACK_MAX_BODY = 2048
    account = make_account(mode="plaintext")
    request = _peer(account).sign(_text("oA", 7, content="长" * 2000, to=account.original_id))
    assert _post(client, request).status_code == 413
    assert Event.objects.count() == 0


def test_wrong_appid_inside_ciphertext_is_refused(client: Client) -> None:
    account = make_account(mode="safe")
    impostor = WeChatPeer(
        appid="wx0000000000000000", token=account.token, aes_key=account.encoding_aes_key, mode="safe"
    )
    request = impostor.sign(_text("oA", 8, to=account.original_id))
    request.path = f"/wechat/{account.appid}/callback"
    assert _post(client, request).status_code == 400
    assert Event.objects.count() == 0


def test_plaintext_delivery_to_a_safe_mode_account_is_refused(client: Client) -> None:
    account = make_account(mode="safe")
    plain = WeChatPeer(appid=account.appid, token=account.token, aes_key=None, mode="plaintext")
    assert _post(client, plain.sign(_text("oA", 9, to=account.original_id))).status_code == 400
    assert Event.objects.count() == 0


def test_unknown_account_is_404(client: Client) -> None:
    assert (
        client.post("/wechat/wx0123456789abcdef/callback", b"<xml/>", content_type="text/xml").status_code
        == 404
    )


def test_message_for_another_account_is_refused(client: Client) -> None:
    account = make_account(mode="plaintext")
    request = _peer(account).sign(_text("oA", 10, to="gh_someoneelse"))
    assert _post(client, request).status_code == 400
    assert Event.objects.count() == 0


def test_unknown_message_type_is_stored_and_answered_success(client: Client) -> None:
    account = make_account(mode="safe")
    peer = _peer(account)
    xml = (
        f"<xml><ToUserName><![CDATA[{account.original_id}]]></ToUserName><FromUserName><![CDATA[oZ]]>"
        "</FromUserName><CreateTime>1700000001</CreateTime><MsgType><![CDATA[hologram]]></MsgType>"
        "<MsgId>424242</MsgId><Beam>on</Beam></xml>"
    )
    response = _post(client, peer.sign(xml))
    assert response.status_code == 200
    assert peer.open_reply(response.content.decode()) == "success"
    event = Event.objects.get()
    assert event.kind == "unknown.hologram"
    assert event.payload["Beam"] == "on"


def test_follow_unfollow_refollow_history_and_channel(client: Client) -> None:
    account = make_account(mode="safe")
    peer = _peer(account)
    gh = account.original_id
    for xml in [
        _event("oFan", "subscribe", 1700000000, gh, key="qrscene_store_042"),
        _text("oFan", 501, to=gh, t=1700000100),
        _event("oFan", "unsubscribe", 1700086400, gh),
        _event("oFan", "subscribe", 1700172800, gh, key="qrscene_giveaway"),
    ]:
        assert _post(client, peer.sign(xml)).status_code == 200
    fan = Fan.objects.get(account=account, openid="oFan")
    assert fan.is_following
    assert fan.channel == "store_042"
    assert (fan.follow_count, fan.unfollow_count) == (2, 1)
    assert fan.first_followed_at.timestamp() == 1700000000
    assert fan.followed_at.timestamp() == 1700172800
    assert fan.unfollowed_at.timestamp() == 1700086400
    assert fan.last_message_at.timestamp() == 1700000100
    periods = list(
        FollowPeriod.objects.filter(fan=fan).order_by("followed_at").values_list("channel", "unfollowed_at")
    )
    assert [p[0] for p in periods] == ["store_042", "giveaway"]
    assert periods[0][1] is not None and periods[1][1] is None
    assert Event.objects.filter(account=account).count() == 4


def test_events_of_one_account_do_not_touch_another(client: Client) -> None:
    a = make_account(mode="safe")
    b = make_account(mode="safe")
    _post(client, _peer(a).sign(_event("oShared", "subscribe", 1700000000, a.original_id)))
    assert Fan.objects.filter(account=b).count() == 0
    assert Event.objects.filter(account=b).count() == 0
    # The same delivery signed for B is B's own event, not a duplicate of A's.
    _post(client, _peer(b).sign(_event("oShared", "subscribe", 1700000000, b.original_id)))
    assert Event.objects.filter(account=b).count() == 1
