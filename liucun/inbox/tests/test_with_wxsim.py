"""End to end against wxsim over HTTP: an agent answers in the inbox and wxsim's recorder shows what the fan
got; a double click and a colleague's simultaneous send deliver once; after the window, a plain refusal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.fans.models import Fan
from liucun.inbox.models import Conversation, Measure, State
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.outbound.models import OutboundMessage
from liucun.outbound.tests.helpers import run_deliveries
from liucun.staff.models import Role
from liucun.testing.factories import make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=20) as url:
        yield url


class Desk:
    """An account on wxsim, a fan who just wrote (in wxsim and as the callback stored it), two agents."""

    def __init__(self, control: WxsimControl) -> None:
        self.control = control
        self.account = make_account_on_wxsim(control)
        (self.openid,) = control.add_fans(self.account.appid, count=1)
        self.fan = Fan.objects.create(account=self.account, openid=self.openid, is_following=True)
        self.li = member(make_user("客服小李"), self.account, Role.AGENT)
        self.wang = member(make_user("客服小王"), self.account, Role.AGENT)

    def fan_writes(self, text: str = "订单什么时候发货？") -> datetime:
        done = self.control.act(self.account.appid, "text", self.openid, content=text, drop_callback=True)
        at = datetime.fromtimestamp(done["time"], UTC)
        Fan.objects.filter(pk=self.fan.pk).update(last_message_at=at, last_interaction_at=at)
        fan_message(self.account, self.openid, at, text)
        fold()
        return at

    def url(self, name: str) -> str:
        return reverse(f"console:{name}", args=[self.account.appid, self.openid])

    def composer(self, client: Client) -> dict[str, str]:
        """The hidden fields of the composer as the page rendered them."""
        page = client.get(self.url("conversation")).content.decode()
        key = page.split('name="key" value="', 1)[1].split('"', 1)[0]
        seen = page.split('name="seen" value="', 1)[1].split('"', 1)[0]
        return {"key": key, "seen": seen}

    def received(self) -> list[dict[str, object]]:
        entries = self.control.recorder(appid=self.account.appid, openid=self.openid, kind="customer_service")
        return [e["detail"] for e in entries]


@pytest.fixture
def desk(wxsim_url: str) -> Desk:
    return Desk(WxsimControl(wxsim_url))


def text(content: str) -> dict[str, object]:
    return {"msgtype": "text", "text": {"content": content}}


def test_an_agent_answers_inside_the_window_and_the_fan_gets_it_once(desk: Desk) -> None:
    asked = desk.fan_writes()
    client = logged_in(desk.li)
    form = desk.composer(client)
    reply = {**form, "text": "您好，今天下午发货。"}
    assert client.post(desk.url("conversation-reply"), reply).status_code == 302
    assert client.post(desk.url("conversation-reply"), reply).status_code == 302  # a double click
    assert OutboundMessage.objects.filter(account=desk.account).count() == 1
    assert run_deliveries() == ["sent"]
    assert desk.received() == [text("您好，今天下午发货。")]
    c = Conversation.objects.get(account=desk.account)
    assert (c.state, c.replies, c.assigned_to_id, c.waiting_since) == (State.WAITING, 1, desk.li.pk, None)
    assert c.first_response_at is not None
    measure = Measure.objects.get(kind=Measure.Kind.FIRST_RESPONSE)
    assert (measure.agent_id, measure.started_at) == (desk.li.pk, asked)
    assert measure.ended_at == c.first_response_at
    page = client.get(desk.url("conversation")).content.decode()
    assert "您好，今天下午发货。" in page and "订单什么时候发货？" in page


def _send(user: AbstractBaseUser, desk: Desk, form: dict[str, str], content: str, codes: list[int]) -> None:
    try:
        answer = logged_in(user).post(desk.url("conversation-reply"), {**form, "text": content})
        codes.append(answer.status_code)
    finally:
        close_old_connections()


def test_two_agents_answering_at_once_deliver_one_reply(desk: Desk) -> None:
    desk.fan_writes()
    li, wang = logged_in(desk.li), logged_in(desk.wang)
    forms = desk.composer(li), desk.composer(wang)
    assert forms[0]["key"] != forms[1]["key"] and forms[0]["seen"] == forms[1]["seen"] == "0"
    codes: list[int] = []
    threads = [
        threading.Thread(target=_send, args=(desk.li, desk, forms[0], "小李的回答", codes)),
        threading.Thread(target=_send, args=(desk.wang, desk, forms[1], "小王的回答", codes)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302, 302]  # the loser is sent back with the refusal as a message
    assert OutboundMessage.objects.filter(account=desk.account).count() == 1
    assert run_deliveries() == ["sent"]
    assert len(desk.received()) == 1
    assert Conversation.objects.get(account=desk.account).replies == 1


def test_the_loser_of_a_race_is_told_a_colleague_answered(desk: Desk) -> None:
    desk.fan_writes()
    li, wang = logged_in(desk.li), logged_in(desk.wang)
    forms = desk.composer(li), desk.composer(wang)
    li.post(desk.url("conversation-reply"), {**forms[0], "text": "小李的回答"})
    page = wang.post(desk.url("conversation-reply"), {**forms[1], "text": "小王的回答"}, follow=True)
    assert "A colleague answered this fan while you were writing" in page.content.decode()
    assert list(OutboundMessage.objects.values_list("content__text__content", flat=True)) == ["小李的回答"]


def test_a_send_after_the_window_closed_is_refused_with_the_explanation(desk: Desk) -> None:
    desk.fan_writes()
    client = logged_in(desk.li)
    form = desk.composer(client)
    long_ago = datetime.now(UTC) - timedelta(hours=49)
    Fan.objects.filter(pk=desk.fan.pk).update(last_message_at=long_ago, last_interaction_at=long_ago)
    answer = client.post(desk.url("conversation-reply"), {**form, "text": "还在吗？"}, follow=True)
    page = answer.content.decode()
    assert "more than 48 hours ago" in page
    assert "template message" in page and "subscription notification" in page
    assert OutboundMessage.objects.count() == 0 and run_deliveries() == []
    assert desk.received() == []
    c = Conversation.objects.get(account=desk.account)
    assert (c.state, c.replies, c.first_response_at) == (State.OPEN, 0, None)
    # The composer is replaced by the explanation while the window is closed.
    page = client.get(desk.url("conversation")).content.decode()
    assert 'id="composer"' not in page and "more than 48 hours ago" in page


def test_an_agent_answers_with_an_image_and_an_article_link_from_the_inbox_and_the_api(desk: Desk) -> None:
    desk.fan_writes("有门店照片吗？")
    client = logged_in(desk.li)
    image = {**desk.composer(client), "kind": "image", "media_id": "MEDIA_store_photo_1", "text": ""}
    assert client.post(desk.url("conversation-reply"), image).status_code == 302
    article = {
        "title": "门店指南",
        "url": "https://shop.example.cn/stores",
        "description": "地址与营业时间",
        "picurl": "https://shop.example.cn/cover.jpg",
    }
    api_url = f"/api/accounts/{desk.account.appid}/conversations/{desk.openid}/replies"
    body = {"key": "api-news-1", "message": {"msgtype": "news", "news": {"articles": [article]}}}
    answer = client.post(api_url, body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert run_deliveries() == ["sent", "sent"]
    assert desk.received() == [
        {"msgtype": "image", "image": {"media_id": "MEDIA_store_photo_1"}},
        {"msgtype": "news", "news": {"articles": [article]}},
    ]
    both = client.post(
        api_url, {"key": "k2", "text": "x", "message": text("y")}, content_type="application/json"
    )
    assert both.status_code == 422
    neither = client.post(api_url, {"key": "k3"}, content_type="application/json")
    assert neither.status_code == 422
    bad = {**desk.composer(client), "kind": "news", "title": "", "url": "not a link"}
    client.post(desk.url("conversation-reply"), bad)  # refused with the field named, nothing queued
    assert OutboundMessage.objects.filter(account=desk.account).count() == 2
