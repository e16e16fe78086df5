"""Parsing: every fixture to the right type and values, wechatpy agreeing, hostile XML refused."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import wechatpy
from hypothesis import given, settings
from hypothesis import strategies as st

from liucun.wechat import messages as m
from liucun.wechat.errors import ForbiddenXML, MalformedXML, ProtocolError
from liucun.wechat.messages import parse_message

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED_TYPES = {
    "text": m.TextMessage,
    "image": m.ImageMessage,
    "voice": m.VoiceMessage,
    "video": m.VideoMessage,
    "shortvideo": m.ShortVideoMessage,
    "location": m.LocationMessage,
    "link": m.LinkMessage,
    "event.subscribe": m.SubscribeEvent,
    "event.subscribe_qrscene": m.SubscribeEvent,
    "event.unsubscribe": m.UnsubscribeEvent,
    "event.scan": m.ScanEvent,
    "event.location": m.LocationEvent,
    "event.click": m.ClickEvent,
    "event.view": m.ViewEvent,
    "event.scancode_push": m.ScanCodeEvent,
    "event.scancode_waitmsg": m.ScanCodeEvent,
    "event.pic_sysphoto": m.PicEvent,
    "event.pic_photo_or_album": m.PicEvent,
    "event.pic_weixin": m.PicEvent,
    "event.location_select": m.LocationSelectEvent,
    "event.view_miniprogram": m.ViewMiniprogramEvent,
    "event.masssendjobfinish": m.MassSendJobFinishEvent,
    "event.templatesendjobfinish": m.TemplateSendJobFinishEvent,
    "event.subscribe_msg_popup_event": m.SubscribeMsgEvent,
    "event.subscribe_msg_change_event": m.SubscribeMsgEvent,
    "event.subscribe_msg_sent_event": m.SubscribeMsgEvent,
    "event.publishjobfinish": m.PublishJobFinishEvent,
}


def _load(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


def test_every_fixture_has_an_expected_type() -> None:
    assert {p.stem for p in FIXTURES.glob("*.xml")} == set(EXPECTED_TYPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_fixture_parses_to_its_type_and_kind(name: str) -> None:
    message = parse_message(_load(name))
    assert type(message) is EXPECTED_TYPES[name]
    assert name == message.kind or name.startswith(message.kind + "_")
    assert message.raw["FromUserName"] == message.from_user


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
def test_wechatpy_agrees_on_the_common_fields(name: str) -> None:
    ours = parse_message(_load(name))
    theirs = wechatpy.parse_message(_load(name).decode())
    assert ours.from_user == theirs.source
    assert ours.to_user == theirs.target
    assert ours.create_time == int(theirs.create_time.timestamp())
    if ours.msg_id is not None and not ours.is_event:
        assert ours.msg_id == theirs.id


def test_field_values() -> None:
    sub = parse_message(_load("event.subscribe_qrscene"))
    assert isinstance(sub, m.SubscribeEvent) and sub.qr_scene == "store_042" and sub.ticket
    assert parse_message(_load("event.subscribe")).qr_scene is None  # type: ignore[attr-defined]
    scan = parse_message(_load("event.scan"))
    assert isinstance(scan, m.ScanEvent) and scan.qr_scene == "store_042"
    loc = parse_message(_load("location"))
    assert (
        isinstance(loc, m.LocationMessage) and loc.location_x == pytest.approx(31.230416) and loc.scale == 15
    )
    pics = parse_message(_load("event.pic_photo_or_album"))
    assert isinstance(pics, m.PicEvent) and pics.count == 2 and len(pics.pic_md5_sums) == 2
    mass = parse_message(_load("event.masssendjobfinish"))
    assert isinstance(mass, m.MassSendJobFinishEvent)
    assert (mass.total_count, mass.filter_count, mass.sent_count, mass.error_count) == (100, 80, 75, 5)
    assert mass.dedupe_key.endswith(":1000001625")
    popup = parse_message(_load("event.subscribe_msg_popup_event"))
    assert isinstance(popup, m.SubscribeMsgEvent) and popup.items[0]["SubscribeStatusString"] == "accept"
    publish = parse_message(_load("event.publishjobfinish"))
    assert isinstance(publish, m.PublishJobFinishEvent) and publish.publish_status == 0
    voice = parse_message(_load("voice"))
    assert isinstance(voice, m.VoiceMessage) and voice.recognition == "我想查一下订单"


def test_dedupe_keys() -> None:
    assert parse_message(_load("text")).dedupe_key == "msg:24301234567890001"
    assert parse_message(_load("event.click")).dedupe_key == "evt:oFanOpenid0000000000000001:1700000015:CLICK"


HOSTILE = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>',
    "laughs": b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><c>&b;</c></xml>',
    "dtd": b'<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml></xml>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_forbidden(name: str) -> None:
    with pytest.raises(ForbiddenXML):
        parse_message(HOSTILE[name])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml>",
        b"<html/>",
        b"<xml><MsgType>text</MsgType></xml>",
        b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
        b"<CreateTime>soon</CreateTime><MsgType>text</MsgType></xml>",
    ],
)
def test_malformed_xml(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        parse_message(body)


def test_unknown_types_are_kept() -> None:
    msg = parse_message(
        b"<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>hologram</MsgType><MsgId>5</MsgId></xml>"
    )
    assert msg.kind == "unknown.hologram" and msg.dedupe_key == "msg:5"
    event = parse_message(
        b"<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>event</MsgType><Event>teleport</Event></xml>"
    )
    assert isinstance(event, m.UnknownEvent) and event.kind == "event.teleport"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: f"<xml>{t}</xml>".encode()))
def test_fuzzed_input_only_raises_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_message(data)
