"""The service report by channel: a fan's channel is its acquisition channel (the QR scene of its first
follow event by WeChat time and id; "" without one) as the fan-activity read model keeps it.

The figures of every channel equal a brute-force count of the measures of that channel's fans (their
channel read from the follow events themselves) on random histories: before the worker ever synced the
MeasureChannel rows, right after, and after backdated follows moved fans and new conversations got their
first measures (what a view corrects by itself); and they equal the set-based query over the measures.
Then one small history through the API with exact rows: the no-channel value ("~"), a fan without a follow
event, a fan without any event, a measure without a conversation, and the all-channel rows unchanged.
"""

from __future__ import annotations

import importlib
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from liucun.accounts.models import OfficialAccount
from liucun.activity import service_channels, service_days, service_sql
from liucun.activity.consumer import ActivityConsumer
from liucun.activity.service_sql import BucketFigures
from liucun.activity.tests.support import add_interaction, channels
from liucun.activity.tests.test_service_digest import figures_of
from liucun.analytics.periods import ReportQuery, day_start
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.events.kinds import FOLLOW
from liucun.inbox import measure_days
from liucun.inbox.models import (
    Conversation,
    InboxSettings,
    Measure,
    MeasureChannel,
    MeasureChannelSync,
    MeasureDay,
    State,
)
from liucun.readmodels import runner
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2026, 6, 1)
CHANNELS = ("a", "b", "", "nobody")
_users = itertools.count()
_fans = itertools.count()


def _at(day: int, second: float = 36000) -> datetime:
    return day_start(FIRST_DAY + timedelta(days=day)) + timedelta(seconds=second)


def _fan(account: OfficialAccount, follows: list[tuple[str | None, int]], texted: bool) -> Conversation:
    """A fan with follow events (QR scene or None for none, China day), maybe a message, and its
    conversation."""
    openid = f"oSvc{next(_fans)}"
    for scene, day in follows:
        add_event(account, openid, FOLLOW, _at(day), channel=scene)
    if texted:
        add_interaction(account, openid, "text", _at(20))
    return Conversation.objects.create(account=account, openid=openid, opened_at=_at(0))


def _measure(
    account: OfficialAccount,
    conversation: Conversation | None,
    kind: str,
    day: int,
    wall: float,
    share: float,
) -> None:
    at = _at(day, (day * 7919) % 86400)
    started, ended = (at, at + timedelta(seconds=wall)) if kind == "first_response" else (
        at - timedelta(seconds=wall), at
    )  # fmt: skip
    Measure.objects.create(
        account=account, conversation=conversation, kind=kind, started_at=started, ended_at=ended,
        wall_seconds=wall, service_seconds=wall * share,
    )  # fmt: skip


def _fold() -> None:
    runner.run(ActivityConsumer())


def _brute_force(
    account: OfficialAccount,
    channel: str,
    kind: str,
    query: ReportQuery,
    ranked: str,
    first: float,
    second: float,
) -> dict[int, BucketFigures]:
    """From the measures and the follow events alone."""
    channel_of = channels()
    openids = dict(Conversation.objects.filter(account=account).values_list("pk", "openid"))
    chosen_of_channel = [
        m
        for m in Measure.objects.filter(account=account, kind=kind)
        if (channel_of.get((account.pk, openids[m.conversation_id]), "") if m.conversation_id else "")
        == channel
    ]
    return figures_of(chosen_of_channel, kind, query, ranked, first, second)


KINDS = (
    (Measure.Kind.FIRST_RESPONSE, "service", 600.0, 3600.0),
    (Measure.Kind.RESOLUTION, "wall", 0.0, 0.0),
)


def _assert_every_channel_exact(account: OfficialAccount, query: ReportQuery) -> None:
    since, until = day_start(query.start), day_start(query.end + timedelta(days=1))
    for kind, ranked, first, second in KINDS:
        total = 0
        for channel in CHANNELS:
            expected = _brute_force(account, channel, kind, query, ranked, first, second)
            digested = service_days.figures(
                account.pk, kind, query.buckets(), ranked=ranked, first_threshold=first,
                second_threshold=second, conversations=service_channels.conversations_in(account.pk, channel),
            )  # fmt: skip
            assert digested == expected, (channel, kind)
            from_measures = service_sql.figures(
                account.pk, kind, time_column="started_at" if ranked == "service" else "ended_at",
                value_column=f"{ranked}_seconds", query=query, since=since, until=until,
                first_threshold=first, second_threshold=second, channel=channel,
            )  # fmt: skip
            assert from_measures == expected, (channel, kind)
            total += sum(f.n for f in expected.values())
        everyone = service_days.figures(
            account.pk, kind, query.buckets(), ranked=ranked, first_threshold=first, second_threshold=second
        )
        assert total == sum(f.n for f in (everyone or {}).values())


scene = st.sampled_from(["a", "b", None])
fan_strategy = st.tuples(
    st.lists(st.tuples(scene, st.integers(-5, 5)), max_size=2),  # follows
    st.booleans(),  # a message, so a cursor even without a follow
)
measure_strategy = st.tuples(
    st.integers(-1, 5),  # the fan's index, -1: no conversation
    st.sampled_from([Measure.Kind.FIRST_RESPONSE, Measure.Kind.RESOLUTION]),
    st.integers(0, 20),  # China day
    st.sampled_from([0.0, 60.0, 600.0, 3600.0, 7200.0, 90000.0]),  # wall seconds, ties
    st.sampled_from([1.0, 0.5]),
)


@dataclass
class History:
    fans: list[tuple[list[tuple[str | None, int]], bool]]
    measures: list[tuple[int, str, int, float, float]]
    late_follows: list[tuple[int, str | None, int]]  # fan index, scene, day: arrive after the sync
    late_measures: list[tuple[int, str, int, float, float]]  # a new fan's, after the sync


@random_histories(15)
@given(
    history=st.builds(
        History,
        fans=st.lists(fan_strategy, min_size=1, max_size=6),
        measures=st.lists(measure_strategy, max_size=25),
        late_follows=st.lists(st.tuples(st.integers(0, 5), scene, st.integers(-8, 8)), max_size=3),
        late_measures=st.lists(measure_strategy, max_size=4),
    ),
    start=st.integers(0, 10),
    days=st.integers(1, 15),
    granularity=st.sampled_from(["day", "week", "month"]),
)
def test_every_channel_equals_a_brute_force_count_before_and_after_syncs_and_late_follows(
    history: History, start: int, days: int, granularity: str
) -> None:
    account = make_account()
    conversations = [_fan(account, follows, texted) for follows, texted in history.fans]

    def add(measures: list[tuple[int, str, int, float, float]], fans: list[Conversation]) -> None:
        for fan, kind, day, wall, share in measures:
            _measure(account, fans[fan % len(fans)] if fan >= 0 else None, kind, day, wall, share)

    add(history.measures, conversations)
    _fold()
    query = ReportQuery(
        FIRST_DAY + timedelta(days=start), FIRST_DAY + timedelta(days=start + days - 1), granularity
    )
    _assert_every_channel_exact(account, query)  # never synced: every conversation looked up

    service_channels.sync(account.pk)
    _assert_every_channel_exact(account, query)  # the rows

    for fan, late_scene, day in history.late_follows:
        add_event(
            account, conversations[fan % len(conversations)].openid, FOLLOW, _at(day), channel=late_scene
        )
    add(history.late_measures, [_fan(account, [("b", 1)], texted=True)])
    _fold()
    _assert_every_channel_exact(account, query)  # the rows corrected by the view

    service_channels.sync(account.pk)
    assert not MeasureChannel.objects.filter(account=account, channel__isnull=True).exists()
    _assert_every_channel_exact(account, query)


def _channel_rows(account: OfficialAccount) -> dict[str, str | None]:
    openids = dict(Conversation.objects.filter(account=account).values_list("pk", "openid"))
    return {
        openids[c]: channel
        for c, channel in MeasureChannel.objects.filter(account=account).values_list(
            "conversation_id", "channel"
        )
    }


def test_the_sync_follows_the_fans_whose_first_follow_arrives_late_and_a_rebuilt_read_model() -> None:
    account = make_account()
    early = _fan(account, [("a", 2)], texted=True)
    late = _fan(account, [], texted=True)
    _measure(account, early, "first_response", 3, 60.0, 1.0)
    _measure(account, late, "first_response", 3, 120.0, 1.0)
    _fold()
    assert _channel_rows(account) == {early.openid: None, late.openid: None}  # written by Measure.save

    service_channels.sync(account.pk)
    assert _channel_rows(account) == {early.openid: "a", late.openid: ""}
    watermark = ConsumerState.objects.get(name="fan-activity").last_event_id
    assert MeasureChannelSync.objects.get(account=account).upto == watermark

    # The late fan's first follow arrives (backdated), and a refollow of the early one through "b".
    add_event(account, late.openid, FOLLOW, _at(1), channel="b")
    add_event(account, early.openid, FOLLOW, _at(9), channel="b")
    _fold()
    assert list(service_channels.conversations_in(account.pk, "b")) == [late.pk]  # corrected by the view
    assert list(service_channels.conversations_in(account.pk, "")) == [measure_days.NO_CONVERSATION]
    assert service_channels.sync(account.pk) == 2  # the two fans followed since, looked up again
    assert _channel_rows(account) == {early.openid: "a", late.openid: "b"}

    # A rebuilt read model made its cursors again: every row is looked up, and the view does not trust
    # the rows until then.
    ConsumerState.objects.filter(name="fan-activity").update(rebuilt_at=datetime(2026, 7, 1, tzinfo=UTC))
    MeasureChannel.objects.filter(account=account).update(channel="stale")
    assert list(service_channels.conversations_in(account.pk, "stale")) == []
    assert list(service_channels.conversations_in(account.pk, "a")) == [early.pk]
    assert service_channels.sync(account.pk) == 2
    assert _channel_rows(account) == {early.openid: "a", late.openid: "b"}


def test_the_digest_names_each_value_s_conversation_and_a_rebuild_gives_the_same_bytes() -> None:
    account = make_account()
    fans = [
        Conversation.objects.create(account=account, openid=f"oTie{i}", opened_at=_at(0)) for i in range(4)
    ]
    rng = random.Random(8)
    for _ in range(60):
        # Ties among the values of different conversations, written in a random order.
        kind = rng.choice(["first_response", "resolution"])
        wall = rng.choice([60.0, 600.0, 3600.0])
        _measure(account, rng.choice([*fans, None]), kind, rng.randint(0, 2), wall, rng.choice([1.0, 0.5]))

    def digest() -> dict[tuple[str, date], tuple[bytes, ...]]:
        return {
            (row.kind, row.day): tuple(bytes(getattr(row, name)) for name in measure_days.ARRAYS)
            for row in MeasureDay.objects.filter(account=account)
        }

    kept = digest()
    for arrays in kept.values():
        for values, owners in ((arrays[0], arrays[2]), (arrays[1], arrays[3])):
            pairs = list(zip(measure_days.unpack(values), measure_days.unpack_ids(owners), strict=True))
            assert pairs == sorted(pairs)
    measured = Measure.objects.filter(account=account)
    assert sorted(
        (m.kind, m.service_seconds, m.conversation_id or 0) for m in measured
    ) == sorted(
        (kind, value, owner)
        for (kind, _day), (service, _w, owners, _wo) in kept.items()
        for value, owner in zip(measure_days.unpack(service), measure_days.unpack_ids(owners), strict=True)
    )  # fmt: skip
    assert measure_days.rebuild(account.pk) == 60
    assert digest() == kept
    # The migration that added the conversations fills them the same way (its own copy of rebuild).
    MeasureDay.objects.filter(account=account).delete()
    MeasureChannel.objects.filter(account=account).delete()
    importlib.import_module("liucun.inbox.migrations.0003_measure_channels")._fill(apps, _Editor())
    assert digest() == kept
    assert set(_channel_rows(account)) == {f.openid for f in fans if measured.filter(conversation=f).exists()}


class _Editor:
    connection = connection


def test_the_worker_syncs_every_minute() -> None:
    from liucun.activity.tasks import sync_measure_channels
    from liucun.runner.scheduler import collect_schedule

    assert "service-measure-channels" in [p.name for p in collect_schedule()]
    account = make_account()
    _measure(account, _fan(account, [("a", 1)], texted=False), "resolution", 2, 60.0, 1.0)
    _fold()
    assert sync_measure_channels.call() == 1
    assert _channel_rows(account) == {Conversation.objects.get(account=account).openid: "a"}


def _report(account: OfficialAccount, **params: str) -> dict[str, Any]:
    client: Client = logged_in(member(make_user(f"op{next(_users)}"), account, Role.OPERATOR))
    response = client.get(reverse("api:report_service", args=[account.appid]), params)
    assert response.status_code == 200, response.content
    return response.json()


def _row(*values: float | None) -> dict[str, Any]:
    """A row without its period: asked, answered, waiting, p50, p90, within target and promise, and
    (when there were any) resolved and the resolution p50."""
    asked, answered, waiting, p50, p90, target, promise, resolved, resolution = (*values, 0, None)[:9]
    return {
        "asked": asked, "answered": answered, "waiting": waiting, "first_response_p50": p50,
        "first_response_p90": p90, "within_target": target, "within_promise": promise, "resolved": resolved,
        "resolution_p50": resolution,
    }  # fmt: skip


@pytest.mark.parametrize("synced", [False, True])
def test_the_report_by_channel_through_the_api(synced: bool) -> None:
    account = make_account()
    InboxSettings.objects.create(account=account, first_response_minutes=30, promise_hours=24)
    day1 = datetime(2026, 6, 29, 2, tzinfo=UTC)  # 10:00 in Shanghai
    day2 = day1 + timedelta(days=1)

    def answered(
        conversation: Conversation | None, asked: datetime, wall_minutes: int, service_minutes: int
    ) -> None:
        Measure.objects.create(
            account=account, conversation=conversation, kind=Measure.Kind.FIRST_RESPONSE, started_at=asked,
            ended_at=asked + timedelta(minutes=wall_minutes), wall_seconds=wall_minutes * 60.0,
            service_seconds=service_minutes * 60.0,
        )  # fmt: skip

    def conversation(openid: str, waiting_since: datetime | None = None) -> Conversation:
        return Conversation.objects.create(
            account=account, openid=openid, opened_at=day1, waiting_since=waiting_since,
            state=State.OPEN if waiting_since else State.WAITING,
        )  # fmt: skip

    for openid, scene in (("oA1", "a"), ("oA2", "a"), ("oB1", "b"), ("oN1", None)):
        add_event(account, openid, FOLLOW, day1 - timedelta(days=3), channel=scene)
    add_interaction(account, "oT1", "text", day2)  # no follow event stored: no channel
    a1 = conversation("oA1")
    answered(a1, day1, 10, 10)
    answered(a1, day1 + timedelta(hours=1), 20, 20)
    Measure.objects.create(
        account=account, conversation=a1, kind=Measure.Kind.RESOLUTION, started_at=day1,
        ended_at=day1 + timedelta(hours=3), wall_seconds=3 * 3600.0, service_seconds=3 * 3600.0,
    )  # fmt: skip
    conversation("oA2", waiting_since=day1)  # long past the promise
    answered(conversation("oB1"), day1, 40, 40)
    answered(conversation("oN1"), day1, 50, 50)
    answered(conversation("oT1"), day2, 30 * 60, 120)  # past the promise in wall-clock hours
    conversation("oX1", waiting_since=day2)  # an agent opened it: no event at all, no cursor
    answered(None, day2, 5, 5)  # a measure whose conversation is not known
    _fold()
    if synced:
        service_channels.sync(account.pk)
    span = {"start": "2026-06-29", "end": "2026-06-30"}

    def rows(**params: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k != "period"} for r in _report(account, **span, **params)["rows"]
        ]

    assert rows(channel="a") == [
        _row(3, 2, 1, 10.0, 20.0, 1.0, 0.666667, 1, 3.0),
        _row(0, 0, 0, None, None, None, None),
    ]
    assert rows(channel="b") == [_row(1, 1, 0, 40.0, 40.0, 0.0, 1.0), _row(0, 0, 0, None, None, None, None)]
    assert rows(channel="~") == [
        _row(1, 1, 0, 50.0, 50.0, 0.0, 1.0),
        _row(3, 2, 1, 5.0, 120.0, 0.5, 0.333333),  # nearest ranks of 5 and 120 minutes
    ]
    assert rows(channel="nobody") == [_row(0, 0, 0, None, None, None, None)] * 2
    # Every channel together: as without a channel, and the same as before channels existed.
    assert rows() == [_row(5, 4, 1, 20.0, 50.0, 0.5, 0.8, 1, 3.0), _row(3, 2, 1, 5.0, 120.0, 0.5, 0.333333)]
    body = _report(account, channel="a", **span)
    assert "By channel" in " ".join(body["notes"])
    assert body["channel"] == "a"
