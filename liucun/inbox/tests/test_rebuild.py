"""The conversations read model rebuilt set-based (inbox/bulk.py) gives exactly the rows a replay gives, keeps
what agents did, and incremental runs carry on from it as from a replay. Random histories mix live and
imported events, handoffs, fans without a fan row, two accounts, and agents replying, resolving, assigning
and opening conversations between batches; event times straddle the agents' actions, so a rebuild finds
conversations to reopen and waits to move."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import add_fans, member
from liucun.events.models import Event, EventSource
from liucun.fans.models import Fan
from liucun.inbox import actions
from liucun.inbox.consumer import ConversationsConsumer
from liucun.inbox.models import AgentStatus, Conversation, OpenedBy, State
from liucun.inbox.tests.fixtures import fan_message, fold
from liucun.readmodels import runner
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import wipe_events
from liucun.refusals import Refused
from liucun.sqlite_writelock import serialized_writes
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

NO_GRACE = timedelta(0)
COLUMNS = (
    "account_id", "openid", "fan_id", "state", "opened_by", "opened_at", "waiting_since",
    "last_fan_message_at", "messages", "handoff_at", "last_event_id", "assigned_to_id", "assigned_at",
    "read_messages", "replies", "first_response_at", "last_reply_at", "resolved_at",
)  # fmt: skip


def rows() -> list[tuple[Any, ...]]:
    """Every column a replay or an agent writes (not the id: a replay and a fill number new rows apart)."""
    return sorted(Conversation.objects.values_list(*COLUMNS), key=repr)


def replay_and_fill() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], runner.RunResult]:
    """The rows a replay leaves and those the set-based rebuild leaves, each from the same starting rows."""
    start = transaction.savepoint()
    replayed = runner.rebuild(ConversationsConsumer(), batch=3, bulk=False)
    assert replayed.bulk is None
    by_replay = rows()
    transaction.savepoint_rollback(start)
    filled = runner.rebuild(ConversationsConsumer(), batch=3)
    assert filled.bulk is not None
    return by_replay, rows(), filled


@pytest.fixture
def desk() -> Iterator[dict[str, Any]]:
    accounts = [make_account(), make_account()]
    operator = get_user_model().objects.create_user(f"op-{uuid.uuid4().hex[:8]}")
    for account in accounts:
        member(operator, account, Role.OPERATOR)
        # Fans o0..o2 are known, their window open for replies; o3 writes without a fan row.
        now = datetime.now(UTC)
        Fan.objects.bulk_create(
            [Fan(account=account, openid=f"o{i}", is_following=True, last_message_at=now) for i in range(3)]
        )
    yield {"accounts": accounts, "operator": operator}


KINDS = ["text", "text", "image", "event.click", "event.scan", "event.subscribe", "event.view"]
SOURCES = [EventSource.CALLBACK, EventSource.CALLBACK, EventSource.CALLBACK, EventSource.IMPORT]
# Minutes from 12 hours before the test starts: some events are older than the agents' actions (late
# deliveries), some newer (a rebuild meets them after a reply or a resolution).
events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        st.sampled_from(KINDS),
        st.integers(0, 24 * 60),  # minute
        st.sampled_from(SOURCES),
        st.sampled_from([False, False, False, True]),  # a rule handed the fan to a human
    ),
    max_size=25,
)
actions_strategy = st.lists(
    st.tuples(
        st.sampled_from(["reply", "resolve", "assign", "open", "read"]),
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
    ),
    max_size=6,
)
# After each slice of events: batch size, batches before the agents act (0: all), a rebuild first and how.
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 2), st.sampled_from(["", "", "bulk", "replay"])),
    min_size=1,
    max_size=4,
)


def agents_act(desk: dict[str, Any], todo: list[tuple[str, int, int]]) -> None:
    for what, account_i, fan in todo:
        # A closed window or an unknown fan: the agent could not, as in the console.
        with contextlib.suppress(Refused):
            agent_does(desk["operator"], what, desk["accounts"][account_i], f"o{fan}")


def agent_does(operator: Any, what: str, account: OfficialAccount, openid: str) -> None:
    if what == "open":
        actions.open_conversation(operator, account, openid)
        return
    conversation = Conversation.objects.filter(account=account, openid=openid).first()
    if conversation is None:
        return
    if what == "reply":
        actions.reply(operator, conversation, text="您好", key=uuid.uuid4().hex)
    elif what == "resolve":
        actions.resolve(operator, conversation)
    elif what == "assign":
        actions.assign(operator, conversation, operator.pk)
    else:
        actions.mark_read(operator, conversation)


@random_histories(40)
@given(
    history=events_strategy,
    later=events_strategy,
    runs=runs_strategy,
    work=st.lists(actions_strategy, min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 25), max_size=3),
)
def test_a_set_based_rebuild_equals_a_replay_and_incremental_runs_carry_on_from_it(
    desk: dict[str, Any],
    history: list[tuple[Any, ...]],
    later: list[tuple[Any, ...]],
    runs: list[tuple[int, int, str]],
    work: list[list[tuple[str, int, int]]],
    cuts: list[int],
) -> None:
    wipe_events()
    Conversation.objects.all().delete()
    ConsumerState.objects.all().delete()
    base = datetime.now(UTC) - timedelta(hours=12)
    accounts = desk["accounts"]

    def store(events: list[tuple[Any, ...]]) -> None:
        for account_i, fan, kind, minute, source, handoff in events:
            at = base + timedelta(minutes=minute)
            fan_message(accounts[account_i], f"o{fan}", at, kind=kind, source=source, handoff=handoff)

    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        store(events)
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(ConversationsConsumer(), batch=batch, bulk=rebuild_first == "bulk")
        # Agents act between batches: some of the slice is folded in before, the rest after.
        runner.run(ConversationsConsumer(), batch=batch, max_batches=batches or None, grace=NO_GRACE)
        agents_act(desk, work[i % len(work)])
    runner.run(ConversationsConsumer(), grace=NO_GRACE)

    by_replay, by_fill, filled = replay_and_fill()
    assert by_fill == by_replay
    assert filled.watermark == filled.bulk.upto if filled.bulk else False

    # New events, late ones among them, folded in after the set-based rebuild equal a replay of them all.
    store(later)
    runner.run(ConversationsConsumer(), batch=2, grace=NO_GRACE)
    incremental = rows()
    runner.rebuild(ConversationsConsumer(), batch=3, bulk=False)
    assert rows() == incremental


T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_resolved_conversation_reopens_at_the_first_event_by_id_as_a_replay_reopens_it() -> None:
    account = make_account()
    operator = member(get_user_model().objects.create_user("op1"), account, Role.OPERATOR)
    now = datetime.now(UTC)
    fan_message(account, "oFan", T0)
    # Written after the resolution below (clocks apart, or WeChat's time ahead of ours), delivered before:
    # the later one by id is the earlier in time.
    fan_message(account, "oFan", now + timedelta(hours=2), "第一条")
    fan_message(account, "oFan", now + timedelta(hours=1), "第二条")
    fold()
    actions.resolve(operator, Conversation.objects.get())

    by_replay, by_fill, _filled = replay_and_fill()

    assert by_fill == by_replay
    c = Conversation.objects.get()
    assert (c.state, c.opened_at, c.waiting_since, c.first_response_at, c.messages) == (
        State.OPEN, now + timedelta(hours=2), now + timedelta(hours=2), None, 3
    )  # fmt: skip


def test_a_wait_moves_to_the_earliest_message_after_the_reply_and_older_ones_only_count() -> None:
    account = make_account()
    operator = member(get_user_model().objects.create_user("op1"), account, Role.OPERATOR)
    fan = add_fans(account, 1)[0]
    now = datetime.now(UTC)
    fan_message(account, fan.openid, now - timedelta(hours=3))
    fold()
    actions.reply(operator, Conversation.objects.get(), text="您好", key="k1")
    fan_message(account, fan.openid, now - timedelta(hours=1), "在回复之前写的")  # late: older than the reply
    fan_message(account, fan.openid, now + timedelta(hours=3), "b")
    fan_message(account, fan.openid, now + timedelta(hours=2), "a")
    fold()

    by_replay, by_fill, _filled = replay_and_fill()

    assert by_fill == by_replay
    c = Conversation.objects.get()
    assert (c.state, c.waiting_since, c.messages, c.replies) == (State.OPEN, now + timedelta(hours=2), 4, 1)


def test_imported_history_and_clicks_without_a_handoff_open_nothing_handoffs_do() -> None:
    account = make_account()
    fan_message(account, "oImported", T0, source=EventSource.IMPORT)
    fan_message(account, "oImported", T0, kind="event.click", source=EventSource.IMPORT, handoff=True)
    fan_message(account, "oClick", T0, kind="event.click")
    fan_message(account, "oView", T0, kind="event.view", handoff=True)  # not a window event: not read
    fan_message(account, "oHanded", T0, kind="event.click", handoff=True)
    fan_message(account, "oHanded", T0 + timedelta(minutes=1), "人工")
    # The database leaves out what the replay would drop: only the two live events reach the consumer.
    assert fold().events == 2

    by_replay, by_fill, _filled = replay_and_fill()

    assert by_fill == by_replay
    c = Conversation.objects.get()
    assert (c.openid, c.opened_by, c.messages, c.handoff_at, c.last_fan_message_at, c.fan_id) == (
        "oHanded", OpenedBy.HANDOFF, 1, T0, T0 + timedelta(minutes=1), None
    )  # fmt: skip


def test_a_rebuild_keeps_conversations_agents_opened_and_brings_back_one_deleted_by_hand() -> None:
    account = make_account()
    operator = member(get_user_model().objects.create_user("op1"), account, Role.OPERATOR)
    fans = add_fans(account, 2)
    fan_message(account, fans[0].openid, T0)
    fan_message(account, fans[0].openid, T0 + timedelta(minutes=5), handoff=True)
    fold()
    actions.open_conversation(operator, account, fans[1].openid)  # no event of the fan: agent side only
    Conversation.objects.filter(openid=fans[0].openid).delete()
    # Counts no stored event backs (written by hand, or by an older version): a rebuild zeroes them.
    Conversation.objects.create(
        account=account, openid="oHand", opened_at=T0, messages=2, last_fan_message_at=T0, handoff_at=T0,
        last_event_id=99,
    )  # fmt: skip

    by_replay, by_fill, filled = replay_and_fill()

    assert by_fill == by_replay and filled.events == 0
    back = Conversation.objects.get(openid=fans[0].openid)
    assert (back.fan_id, back.opened_by, back.opened_at, back.messages, back.handoff_at) == (
        fans[0].pk, OpenedBy.MESSAGE, T0, 2, T0 + timedelta(minutes=5)
    )  # fmt: skip
    kept = Conversation.objects.get(openid=fans[1].openid)
    assert (kept.opened_by, kept.assigned_to_id, kept.messages, kept.last_event_id) == (
        OpenedBy.AGENT, operator.pk, 0, 0
    )  # fmt: skip
    zeroed = Conversation.objects.get(openid="oHand")
    assert (zeroed.messages, zeroed.last_fan_message_at, zeroed.handoff_at, zeroed.last_event_id) == (
        0, None, None, 0
    )  # fmt: skip


def test_a_set_based_rebuild_assigns_new_open_conversations_as_a_replay_does() -> None:
    account = make_account()
    agent = member(get_user_model().objects.create_user("agent1"), account, Role.AGENT)
    fan_message(account, "oA", T0)
    fan_message(account, "oB", T0 + timedelta(minutes=1))
    fold()
    Conversation.objects.all().delete()
    AgentStatus.objects.create(account=account, user=agent, available=True)

    filled = runner.rebuild(ConversationsConsumer())

    assert filled.bulk is not None
    assert sorted(Conversation.objects.values_list("openid", "assigned_to_id")) == [
        ("oA", agent.pk),
        ("oB", agent.pk),
    ]


def test_incremental_runs_after_a_set_based_rebuild_fold_only_new_events() -> None:
    account = make_account()
    fan_message(account, "oFan", T0)
    filled = runner.rebuild(ConversationsConsumer())
    assert filled.bulk is not None and filled.watermark == filled.bulk.upto
    fan_message(account, "oFan", T0 + timedelta(minutes=2))
    fan_message(account, "oFan", T0 - timedelta(minutes=2))  # late: older than the conversation
    assert fold().events == 2
    c = Conversation.objects.get()
    assert (c.messages, c.opened_at, c.waiting_since, c.last_fan_message_at) == (
        3, T0, T0, T0 + timedelta(minutes=2)
    )  # fmt: skip


def test_what_agents_do_between_the_staging_and_the_write_counts_as_in_a_replay_at_that_moment() -> None:
    account = make_account()
    operator = member(get_user_model().objects.create_user("op1"), account, Role.OPERATOR)
    fans = add_fans(account, 5)
    now = datetime.now(UTC)
    for fan in fans:
        fan_message(account, fan.openid, now - timedelta(hours=2))
        fan_message(account, fan.openid, now + timedelta(hours=1), "写在后面")
    fold()
    consumer = ConversationsConsumer()
    last_id = Event.objects.aggregate(head=Max("id"))["head"]
    consumer.prepare_bulk(last_id)

    # Between the staging (no write lock) and the write: agents resolve, answer, and a conversation is
    # deleted by hand and opened again by an agent, another one deleted for good.
    actions.resolve(operator, Conversation.objects.get(openid=fans[0].openid))
    actions.reply(operator, Conversation.objects.get(openid=fans[1].openid), text="您好", key="k1")
    Conversation.objects.filter(openid__in=[fans[2].openid, fans[3].openid]).delete()
    actions.open_conversation(operator, account, fans[2].openid)
    start = transaction.savepoint()
    runner.rebuild(ConversationsConsumer(), bulk=False)
    by_replay = rows()
    transaction.savepoint_rollback(start)
    try:
        with serialized_writes(), transaction.atomic():
            consumer.reset()
            assert consumer.rebuild_bulk(last_id)
    finally:
        consumer.finish_bulk()

    assert rows() == by_replay
    states = dict(Conversation.objects.values_list("openid", "state"))
    assert [states[f.openid] for f in fans] == [State.OPEN] * 5
    reopened = Conversation.objects.get(openid=fans[2].openid)
    assert (reopened.opened_by, reopened.messages, reopened.waiting_since) == (
        OpenedBy.AGENT, 2, now + timedelta(hours=1)
    )  # fmt: skip
