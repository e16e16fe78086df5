"""The window as WeChat counts it, refusals before and from WeChat, content limits, and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liucun.events.models import Event
from liucun.fans.privacy import erase_fan, export_fan
from liucun.outbound import actions
from liucun.outbound.content import parse
from liucun.outbound.models import OutboundMessage, Status
from liucun.outbound.queries import fan_outbound
from liucun.outbound.refusals import ContentRefused, NotResendable, WindowClosed
from liucun.outbound.tests.conftest import Scene
from liucun.outbound.tests.helpers import run_deliveries
from liucun.outbound.window import window_for
from liucun.staff.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = {"msgtype": "text", "text": {"content": "欢迎"}}
SEND = "/cgi-bin/message/custom/send"


def _queue(scene: Scene, key: str, source: str = "rule") -> OutboundMessage:
    return actions.queue_message(
        account_id=scene.account.pk, openid=scene.openid, content=HELLO, key=key, source=source
    )


def test_a_click_opens_one_minute_and_three_messages(scene: Scene) -> None:
    now = datetime.now(UTC)
    scene.fan.last_message_at = now - timedelta(hours=50)
    scene.fan.last_event_at = now - timedelta(seconds=10)
    scene.fan.save()
    window = window_for(scene.account.pk, scene.openid, now)
    assert (window.open, window.messages_left, window.seconds_left) == (True, 3, 50)
    later = window_for(scene.account.pk, scene.openid, now + timedelta(seconds=51))
    assert (later.open, later.messages_left) == (False, None)
    assert "more than 48 hours ago" in str(later.reason)


def test_the_newest_action_decides_and_resets_the_count(scene: Scene) -> None:
    now = datetime.now(UTC)
    scene.fan.last_message_at = now - timedelta(hours=1)
    scene.fan.save()
    for n in range(2):
        _queue(scene, f"c{n}")
    run_deliveries()
    assert window_for(scene.account.pk, scene.openid).messages_left == 3
    scene.fan.last_message_at = datetime.now(UTC)  # the fan writes again: a new window, a new count
    scene.fan.save()
    assert window_for(scene.account.pk, scene.openid).messages_left == 5


def test_a_fan_who_writes_before_liucun_saw_them_follow_has_a_window(scene: Scene) -> None:
    # Followed before Liucun and no sync yet: not marked following, but WeChat takes messages only from
    # followers, so the message opens the window.
    scene.fan.is_following, scene.fan.follow_state_at = False, None
    scene.fan.save()
    assert window_for(scene.account.pk, scene.openid).open


def test_an_unfollowed_or_unknown_fan_has_no_window(scene: Scene) -> None:
    scene.fan.is_following, scene.fan.follow_state_at = False, datetime.now(UTC)
    scene.fan.save()
    assert "no longer follows" in str(window_for(scene.account.pk, scene.openid).reason)
    assert "never heard from this fan" in str(window_for(scene.account.pk, "oNobody").reason)
    with pytest.raises(WindowClosed):
        _queue(scene, "a1", source="agent")
    assert not OutboundMessage.objects.exists()


def test_a_rule_follow_up_the_window_no_longer_allows_is_refused_without_calling_wechat(
    scene: Scene,
) -> None:
    message = _queue(scene, "r1")  # queued while the window was open (rules queue in the callback)
    scene.fan.last_message_at = datetime.now(UTC) - timedelta(hours=49)  # ... and it closed meanwhile
    scene.fan.save()
    assert run_deliveries() == ["refused"]
    message.refresh_from_db()
    assert (message.status, message.errcode) == (Status.REFUSED, None)
    assert "more than 48 hours ago" in message.error and "template message" in message.error
    assert scene.received() == []  # wxsim's window was open: only Liucun's own check stopped it


@pytest.mark.parametrize(
    ("errcode", "words"),
    [
        (45015, "48-hour window is closed"),
        (45047, "all the messages WeChat allows"),
        (48002, "turned off messages"),
    ],
)
def test_wechat_window_refusals_get_the_same_plain_explanation(
    scene: Scene, errcode: int, words: str
) -> None:
    scene.control.faults(scene.account.appid, script=[{"path": SEND, "errcode": errcode}])
    message = _queue(scene, f"w{errcode}")
    assert run_deliveries() == ["refused"]
    message.refresh_from_db()
    assert (message.status, message.errcode) == (Status.REFUSED, errcode)
    assert words in message.error and "subscription notification" in message.error
    assert str(errcode) not in message.error
    assert run_deliveries() == []


def test_a_permanent_error_fails_without_retry(scene: Scene) -> None:
    scene.control.faults(scene.account.appid, script=[{"path": SEND, "errcode": 40003}])
    message = _queue(scene, "p1")
    assert run_deliveries() == ["failed"]
    assert run_deliveries() == []
    message.refresh_from_db()
    assert message.error == "WeChat refused: WeChat does not know this openid."


def test_busy_every_time_gives_up_after_five_attempts(scene: Scene) -> None:
    scene.control.faults(scene.account.appid, script=[{"path": SEND, "errcode": -1}] * actions.MAX_ATTEMPTS)
    message = _queue(scene, "b1")
    outcomes = [run_deliveries() for _ in range(actions.MAX_ATTEMPTS + 1)]
    assert outcomes == [["queued"]] * (actions.MAX_ATTEMPTS - 1) + [["failed"], []]
    message.refresh_from_db()
    assert (message.status, message.attempt, message.errcode) == (Status.FAILED, actions.MAX_ATTEMPTS, -1)
    assert scene.received() == []


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"msgtype": "text", "text": {"content": "   "}}, "text.content: this field is required."),
        ({"msgtype": "image", "image": {}}, "image.media_id: this field is required."),
        ({"msgtype": "image", "image": {"media_id": "a b"}}, "image.media_id: not a WeChat id"),
        ({"msgtype": "news", "news": {"articles": []}}, "news.articles: a customer-service news message"),
        (
            {"msgtype": "news", "news": {"articles": [{"title": "t", "url": "ftp://x"}]}},
            "news.articles[0].url: a web address",
        ),
        ({"msgtype": "fax", "fax": {}}, "msgtype: fax is not a customer-service message type"),
        ({"msgtype": "text", "text": "hi"}, "text: an object is required."),
        ({"msgtype": "msgmenu", "msgmenu": {"list": []}}, "msgmenu.list: 1 to 10 choices are required."),
        ([], "The message must be an object with a msgtype."),
    ],
)
def test_content_over_wechat_limits_is_refused_naming_the_field(content: object, field: str) -> None:
    with pytest.raises(ContentRefused) as refused:
        parse(content)
    assert refused.value.message.startswith(field)


def test_erasure_blanks_what_was_said_and_keeps_the_facts(scene: Scene) -> None:
    message = _queue(scene, "e1")
    run_deliveries()
    Event.objects.create(
        account=scene.account, openid=scene.openid, kind="text", dedupe_key="msg:e1",
        wechat_time=datetime.now(UTC), received_at=datetime.now(UTC), payload={"Content": "我的手机号是…"},
        reply="<xml><MsgType>text</MsgType><Content>已记下您的手机号</Content></xml>",
    )  # fmt: skip
    exported = export_fan(scene.account, scene.openid, "privacy-officer")["outbound_messages"]
    assert [(m["kind"], m["content"], m["source"], m["status"]) for m in exported] == [
        ("text", HELLO, "rule", "sent")
    ]
    assert erase_fan(scene.account, scene.openid, "privacy-officer", "request")
    message.refresh_from_db()
    assert message.content == {"erased": True}
    assert message.content_erased_at is not None
    assert (message.kind, message.status, message.source) == ("text", Status.SENT, "rule")
    assert AuditEntry.objects.filter(action="fans.erase_personal_data").count() == 1
    assert sorted((s.source, s.summary) for s in fan_outbound(scene.account.pk, scene.openid)) == [
        ("reply", "(erased)"),
        ("rule", ""),
    ]
    OutboundMessage.objects.filter(pk=message.pk).update(status=Status.UNKNOWN)
    with pytest.raises(NotResendable):
        actions.send_again(message.pk, key="e2")  # nothing left to send again
    assert scene.received() == [HELLO]
    assert export_fan(scene.account, scene.openid, "privacy-officer")["outbound_messages"][0]["content"] == {
        "erased": True
    }


def test_the_api_examples_are_messages_wechat_accepts() -> None:
    from liucun.api.outbound_routes import NEWS_EXAMPLE, TEXT_EXAMPLE

    assert [type(parse(example)).__name__ for example in (TEXT_EXAMPLE, NEWS_EXAMPLE)] == ["Text", "Link"]
