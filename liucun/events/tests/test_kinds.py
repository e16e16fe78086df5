"""The one vocabulary of kinds covers every message and event the protocol layer can produce."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation

from liucun.events import kinds
from liucun.fans import lifecycle
from liucun.wechat.messages import _EVENT_BUILDERS, _MESSAGE_BUILDERS, parse_message

FIXTURES = sorted((Path(__file__).parents[2] / "wechat" / "tests" / "fixtures").glob("*.xml"))


def test_every_parsed_fixture_has_a_kind_in_the_vocabulary() -> None:
    assert len(FIXTURES) >= 27
    for path in FIXTURES:
        kind = parse_message(path.read_bytes()).kind
        assert kinds.describe(kind) is not None, f"{path.name} parses to {kind!r}, which kinds.py lacks"


def test_every_type_the_parser_knows_is_in_the_vocabulary() -> None:
    parsed = {f"event.{name}" for name in _EVENT_BUILDERS} | set(_MESSAGE_BUILDERS)
    assert parsed - set(kinds.KINDS) == set()
    # And nothing in the vocabulary is a kind nobody writes: the only non-protocol kind is the sync's.
    assert set(kinds.KINDS) - parsed == {kinds.UNFOLLOW_RECONCILED}


def test_the_lifecycle_rules_speak_the_same_kinds() -> None:
    assert {"text", "image", "voice", "video", "shortvideo", "location", "link"} == lifecycle.MESSAGE_KINDS
    assert {
        "event.subscribe",
        "event.scan",
        "event.click",
        "event.scancode_push",
        "event.scancode_waitmsg",
    } == lifecycle.WINDOW_EVENT_KINDS
    assert {
        "event.view",
        "event.pic_sysphoto",
        "event.pic_photo_or_album",
        "event.pic_weixin",
        "event.location_select",
        "event.view_miniprogram",
        "event.subscribe_msg_popup_event",
        "event.subscribe_msg_change_event",
    } == lifecycle.OTHER_FAN_ACTION_KINDS
    assert (lifecycle.FOLLOW, lifecycle.UNFOLLOW) == ("event.subscribe", "event.unsubscribe")
    assert kinds.MESSAGE_KINDS_ORDERED == (
        "text",
        "image",
        "voice",
        "video",
        "shortvideo",
        "location",
        "link",
    )
    assert {k.name for k in kinds.KINDS.values() if k.window == kinds.Window.CS_48H} == kinds.MESSAGE_KINDS


def test_labels_are_translated_and_unknown_kinds_show_as_wechat_spelled_them() -> None:
    with translation.override("en"):
        assert kinds.label("event.subscribe") == "Follow"
        assert kinds.label("event.some_new_event") == "some_new_event"
        assert kinds.label("unknown.miniprogrampage") == "unknown.miniprogrampage"
    with translation.override("zh-hans"):
        assert kinds.label("event.unsubscribe") == "取关"
