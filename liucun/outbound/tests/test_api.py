"""The REST API for sending to a fan, against wxsim: idempotency by header or field, the window, the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from liucun.console.tests.conftest import make_user, member
from liucun.events.models import Event
from liucun.fans.models import Fan
from liucun.outbound.models import OutboundMessage
from liucun.outbound.tests.conftest import Scene
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Role

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = {"msgtype": "text", "text": {"content": "您好"}}


def _auth(scene: Scene, role: Role = Role.AGENT, name: str = "agent") -> dict[str, str]:
    user = member(make_user(f"{name}-{scene.account.appid}"), scene.account, role)
    _, key = create_api_token(user, "t", max_role=role)
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _url(scene: Scene, what: str = "messages") -> str:
    return f"/api/accounts/{scene.account.appid}/fans/{scene.openid}/{what}"


def test_an_agent_sends_once_per_idempotency_key(scene: Scene) -> None:
    client, auth = Client(), _auth(scene)
    first = client.post(
        _url(scene), {"content": HELLO}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **auth
    )
    assert first.status_code == 201, first.content
    assert (first.json()["status"], first.json()["idempotency_key"]) == ("sent", "k1")
    again = client.post(_url(scene), {"content": HELLO, "key": "k1"}, content_type="application/json", **auth)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert scene.received() == [HELLO]
    other = Fan.objects.create(account=scene.account, openid="oOtherFan", is_following=True)
    reused = client.post(
        f"/api/accounts/{scene.account.appid}/fans/{other.openid}/messages",
        {"content": HELLO, "key": "k1"},
        content_type="application/json",
        **auth,
    )
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    assert OutboundMessage.objects.count() == 1
    assert list(AuditEntry.objects.filter(action="outbound.send").values_list("target", flat=True)) == [
        scene.openid
    ]


def test_a_key_is_required_and_bad_content_names_the_field(scene: Scene) -> None:
    client, auth = Client(), _auth(scene)
    no_key = client.post(_url(scene), {"content": HELLO}, content_type="application/json", **auth)
    assert (no_key.status_code, no_key.json()["code"]) == (400, "idempotency_key_required")
    long_text = {"msgtype": "text", "text": {"content": "好" * 683}}  # 2,049 bytes
    too_long = client.post(
        _url(scene), {"content": long_text, "key": "k2"}, content_type="application/json", **auth
    )
    assert too_long.status_code == 400
    assert too_long.json() == {
        "detail": "text.content: at most 2048 bytes (WeChat's limit), this is 2049.",
        "code": "invalid_content",
    }
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []


def test_a_closed_window_is_refused_with_the_reason_before_wechat(scene: Scene) -> None:
    # wxsim's window is open (the fan wrote), but Liucun knows the last message is 49 hours old: Liucun
    # must refuse by itself, so nothing reaches wxsim.
    scene.fan.last_message_at = datetime.now(UTC) - timedelta(hours=49)
    scene.fan.save(update_fields=["last_message_at"])
    client, auth = Client(), _auth(scene)
    answer = client.post(
        _url(scene), {"content": HELLO, "key": "k3"}, content_type="application/json", **auth
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "window_closed"
    assert "more than 48 hours ago" in body["detail"]
    assert "template message" in body["detail"] and "subscription notification" in body["detail"]
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []
    window = client.get(_url(scene, "window"), **auth).json()
    assert (window["open"], window["messages_left"], window["seconds_left"]) == (False, None, 0)
    assert window["reason"] == body["detail"]


def test_the_window_counts_the_messages_left(scene: Scene) -> None:
    client, auth = Client(), _auth(scene)
    window = client.get(_url(scene, "window"), **auth).json()
    assert (window["open"], window["messages_left"]) == (True, 5)
    assert 47 * 3600 < window["seconds_left"] <= 48 * 3600
    for n in range(5):
        sent = client.post(
            _url(scene), {"content": HELLO, "key": f"n{n}"}, content_type="application/json", **auth
        )
        assert sent.json()["status"] == "sent"
    window = client.get(_url(scene, "window"), **auth).json()
    assert (window["open"], window["messages_left"]) == (False, 0)
    sixth = client.post(_url(scene), {"content": HELLO, "key": "n5"}, content_type="application/json", **auth)
    assert sixth.status_code == 409
    assert "all that WeChat allows" in sixth.json()["detail"]
    assert len(scene.received()) == 5


def test_the_log_lists_sends_and_passive_replies_newest_first(scene: Scene) -> None:
    client, auth = Client(), _auth(scene)
    Event.objects.create(
        account=scene.account,
        openid=scene.openid,
        kind="text",
        dedupe_key="msg:1",
        wechat_time=datetime.now(UTC) - timedelta(minutes=5),
        received_at=datetime.now(UTC) - timedelta(minutes=5),
        payload={"MsgType": "text", "Content": "积分"},
        reply="<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您的积分是 20]]></Content></xml>",
    )
    client.post(_url(scene), {"content": HELLO, "key": "k4"}, content_type="application/json", **auth)
    log = client.get(_url(scene), **auth).json()
    assert [(s["source"], s["status"], s["summary"], s["staff"]) for s in log] == [
        ("agent", "sent", "您好", f"agent-{scene.account.appid}"),
        ("reply", "passive", "您的积分是 20", ""),
    ]


def test_an_outsider_sees_no_such_account(scene: Scene, control: object) -> None:
    from liucun.testing.factories import make_account

    other = make_account()
    outsider = member(make_user("outsider"), other, Role.ADMIN)
    _, key = create_api_token(outsider, "t", max_role=Role.ADMIN)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    client = Client()
    sent = client.post(_url(scene), {"content": HELLO, "key": "x"}, content_type="application/json", **auth)
    assert sent.status_code == 404
    assert client.get(_url(scene), **auth).status_code == 404
    assert client.get(_url(scene, "window"), **auth).status_code == 404
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []
