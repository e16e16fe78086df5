"""The conversations read model: opened by messages and handoffs, reopened, and the same after a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from liucun.console.tests.conftest import add_fans, member
from liucun.events.models import EventSource
from liucun.inbox import actions
from liucun.inbox.consumer import ConversationsConsumer
from liucun.inbox.models import Conversation, OpenedBy, State
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.readmodels import runner
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def rows() -> list[tuple[object, ...]]:
    return sorted(
        Conversation.objects.values_list(
            "account_id", "openid", "fan_id", "state", "opened_by", "opened_at", "waiting_since",
            "last_fan_message_at", "messages", "handoff_at", "assigned_to_id", "read_messages", "replies",
            "first_response_at", "last_reply_at", "resolved_at",
        )
    )  # fmt: skip


def test_a_fans_messages_open_one_conversation_oldest_message_waiting() -> None:
    account = make_account()
    fan = add_fans(account, 1)[0]
    fan_message(account, fan.openid, T0)
    fan_message(account, fan.openid, T0 + timedelta(minutes=3), kind="image")
    fan_message(account, "oOther", T0 + timedelta(minutes=1))
    assert fold().events == 3
    c = Conversation.objects.get(account=account, openid=fan.openid)
    assert (c.state, c.opened_by, c.opened_at, c.waiting_since) == (State.OPEN, OpenedBy.MESSAGE, T0, T0)
    assert (c.messages, c.unread, c.last_fan_message_at, c.fan_id) == (
        2,
        2,
        T0 + timedelta(minutes=3),
        fan.pk,
    )
    assert Conversation.objects.get(openid="oOther").fan_id is None


def test_imported_history_and_menu_clicks_open_nothing() -> None:
    account = make_account()
    fan_message(account, "oImported", T0, source=EventSource.IMPORT)
    fan_message(account, "oClick", T0, kind="event.click")
    fold()
    assert Conversation.objects.count() == 0


def test_a_resolved_conversation_reopens_on_the_fans_next_message_as_a_new_cycle() -> None:
    account = make_account()
    agent = member(get_user_model().objects.create_user("agent1"), account, Role.AGENT)
    fan_message(account, "oFan", T0)
    fold()
    c = Conversation.objects.get()
    actions.resolve(agent, c)
    resolved = Conversation.objects.get()
    assert resolved.state == State.RESOLVED and resolved.waiting_since is None
    later = resolved.resolved_at + timedelta(minutes=1)  # type: ignore[operator]
    fan_message(account, "oFan", later, "还有一个问题")
    fold()
    c = Conversation.objects.get()
    assert (c.state, c.opened_at, c.waiting_since, c.first_response_at, c.messages) == (
        State.OPEN, later, later, None, 2
    )  # fmt: skip


def test_a_late_message_older_than_the_reply_does_not_reopen() -> None:
    account = make_account()
    agent = member(get_user_model().objects.create_user("agent1"), account, Role.AGENT)
    fan_message(account, "oFan", T0)
    fold()
    c = Conversation.objects.get()
    Conversation.objects.filter(pk=c.pk).update(
        state=State.WAITING, last_reply_at=T0 + timedelta(hours=1), waiting_since=None, assigned_to=agent
    )
    fan_message(account, "oFan", T0 + timedelta(minutes=30))  # delivered late, written before the reply
    fold()
    c = Conversation.objects.get()
    assert (c.state, c.waiting_since, c.messages) == (State.WAITING, None, 2)
    fan_message(account, "oFan", T0 + timedelta(hours=2))
    fold()
    c = Conversation.objects.get()
    assert (c.state, c.waiting_since, c.messages) == (State.OPEN, T0 + timedelta(hours=2), 3)


def test_a_rule_handing_to_a_human_opens_a_conversation_even_from_a_menu_click() -> None:
    account = make_account()
    fan_message(account, "oClick", T0, kind="event.click", handoff=True)
    fan_message(account, "oText", T0, "人工客服", handoff=True)
    fold()
    click, text = Conversation.objects.get(openid="oClick"), Conversation.objects.get(openid="oText")
    assert (click.opened_by, click.messages, click.handoff_at, click.state) == (
        OpenedBy.HANDOFF,
        0,
        T0,
        State.OPEN,
    )
    assert (text.opened_by, text.messages, text.handoff_at) == (OpenedBy.HANDOFF, 1, T0)


@pytest.mark.parametrize("bulk", [False, True], ids=["replay", "set-based"])
def test_a_rebuild_gives_the_same_rows_and_keeps_the_agents_work(bulk: bool) -> None:
    account = make_account()
    agent = member(get_user_model().objects.create_user("agent1"), account, Role.AGENT)
    for i in range(5):
        fan_message(account, f"oFan{i}", T0 + timedelta(minutes=i))
    fold()
    first = Conversation.objects.get(openid="oFan0")
    actions.assign(agent, first, agent.pk)
    actions.resolve(agent, Conversation.objects.get(openid="oFan1"))
    fan_message(account, "oFan1", datetime.now(UTC) + timedelta(minutes=1), "又来了")
    fan_message(account, "oFan2", T0 + timedelta(hours=1))
    fold()
    before = rows()
    result = runner.rebuild(ConversationsConsumer(), bulk=bulk)
    # A replay hands the consumer the 7 live messages; a set-based fill reads them in SQL, up to them all.
    assert result.rebuilt and (result.events, result.bulk is not None) == ((0, True) if bulk else (7, False))
    assert rows() == before
    assert fold().events == 0 and rows() == before
