"""The fan page's sending part, against wxsim: the window, the composer with its key, the log, scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.outbound.models import OutboundMessage, Status
from liucun.outbound.tests.conftest import Scene
from liucun.outbound.tests.fixtures import populate
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)


def _agent(scene: Scene) -> Client:
    return logged_in(member(make_user(f"agent-{scene.account.appid}"), scene.account, Role.AGENT))


def _urls(scene: Scene) -> tuple[str, str, str]:
    args = (scene.account.appid, scene.openid)
    return (
        reverse("console:fan", args=args),
        reverse("console:fan-outbound", args=args),
        reverse("console:fan-send", args=args),
    )


def _key(html: str) -> str:
    found = re.search(r'<input type="hidden" name="key" value="([^"]+)">', html)
    assert found is not None, "the composer has no idempotency key"
    return found.group(1)


def test_the_fan_page_loads_the_sending_part(scene: Scene) -> None:
    client = _agent(scene)
    page, part, _ = _urls(scene)
    html = client.get(page).content.decode()
    assert f'hx-get="{part}" hx-trigger="load"' in html
    loaded = client.get(part).content.decode()
    assert 'data-open="true"' in loaded
    assert "5 messages left in this window." in loaded
    assert 'id="outbound-composer"' in loaded
    assert "Nothing sent to this fan yet." in loaded


def test_an_agent_replies_and_a_double_click_sends_once(scene: Scene) -> None:
    client = _agent(scene)
    _, part, send = _urls(scene)
    key = _key(client.get(part).content.decode())
    form = {"key": key, "kind": "text", "content": "您好，已为您预约周六上午。"}
    first = client.post(send, form, HTTP_HX_REQUEST="true").content.decode()
    second = client.post(send, form, HTTP_HX_REQUEST="true").content.decode()
    assert "Sent: WeChat delivered the message." in first and "Sent: WeChat delivered the message." in second
    assert _key(first) != key  # a fresh composer: the next message is a new one
    assert scene.received() == [{"msgtype": "text", "text": {"content": "您好，已为您预约周六上午。"}}]
    row = OutboundMessage.objects.get()
    assert (row.status, row.source, row.staff.get_username()) == (  # type: ignore[union-attr]
        Status.SENT,
        "agent",
        f"agent-{scene.account.appid}",
    )
    assert "4 messages left in this window." in first
    assert f"agent-{scene.account.appid}" in first  # who sent it, in the log


def test_a_reply_over_the_limit_keeps_the_draft_and_sends_nothing(scene: Scene) -> None:
    client = _agent(scene)
    _, part, send = _urls(scene)
    key = _key(client.get(part).content.decode())
    answer = client.post(send, {"key": key, "kind": "news", "title": "活动"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert "news.articles[0].url: this field is required." in html
    assert _key(html) == key and 'value="活动"' in html
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []


def test_a_send_after_the_window_closed_is_refused_with_the_explanation(scene: Scene) -> None:
    client = _agent(scene)
    _, part, send = _urls(scene)
    key = _key(client.get(part).content.decode())
    scene.fan.last_message_at = datetime.now(UTC) - timedelta(hours=48, minutes=1)
    scene.fan.save(update_fields=["last_message_at"])
    html = client.post(send, {"key": key, "kind": "text", "content": "还在吗"}, HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert "more than 48 hours ago" in text and "template message" in text
    assert 'id="outbound-composer"' not in text  # closed: no composer, the reason instead
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []


def test_without_htmx_the_form_redirects_to_the_fan_page(scene: Scene) -> None:
    client = _agent(scene)
    page, part, send = _urls(scene)
    key = _key(client.get(part).content.decode())
    answer = client.post(send, {"key": key, "kind": "text", "content": "好的"})
    assert (answer.status_code, answer["Location"]) == (302, page)
    assert len(scene.received()) == 1


def test_an_unknown_send_can_be_sent_again_under_a_new_key(scene: Scene) -> None:
    (unknown,) = [m for m in populate(scene.account, [scene.fan]) if m.status == Status.UNKNOWN]
    OutboundMessage.objects.filter(pk=unknown.pk).update(attempted_at=datetime.now(UTC) - timedelta(days=3))
    client = _agent(scene)
    _, part, _ = _urls(scene)
    html = client.get(part).content.decode()
    again = reverse("console:fan-send-again", args=(scene.account.appid, scene.openid, unknown.pk))
    assert f'hx-post="{again}"' in html
    assert "may have reached the fan already" in html
    client.post(again, {"key": "again-1"}, HTTP_HX_REQUEST="true")
    client.post(again, {"key": "again-1"}, HTTP_HX_REQUEST="true")
    assert scene.received() == [unknown.content]


def test_an_outsider_gets_404_and_nothing_is_sent(scene: Scene) -> None:
    other = make_account()
    client = logged_in(member(make_user("outsider"), other, Role.ADMIN))
    _, part, send = _urls(scene)
    assert client.get(part).status_code == 404
    assert client.post(send, {"key": "k", "kind": "text", "content": "x"}).status_code == 404
    assert not OutboundMessage.objects.exists()
    assert scene.received() == []
