"""The fan-activity read model: exact rows for a small history, a backdated event correcting past weeks, a
fan's share moving to the channel of a first follow that arrives late, and random histories (follows
through QR codes among the interactions) fed in random slices with restarts and rebuilds equal to a
brute-force count."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liucun.activity.consumer import ActivityConsumer
from liucun.activity.models import ActivityFanCursor
from liucun.activity.tests.support import add_interaction, brute_force, kind_table, period_table
from liucun.events.kinds import FOLLOW
from liucun.readmodels import runner
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-06-29, 10:00 in Shanghai.
MONDAY = datetime(2026, 6, 29, 2, tzinfo=UTC)


def test_a_small_history_gives_exact_kind_rows_and_a_weekly_lifecycle_per_channel() -> None:
    account = make_account()
    a = account.pk
    add_event(account, "o1", FOLLOW, MONDAY - timedelta(days=1), "poster")  # o2 has no follow: channel ""
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o1", "event.click", MONDAY + timedelta(days=1), "V1")
    add_interaction(account, "o1", "event.click", MONDAY + timedelta(days=1, hours=1), "V1")
    add_interaction(account, "o2", "event.click", MONDAY + timedelta(days=1, hours=2), "V1")
    add_interaction(account, "o2", "text", MONDAY + timedelta(days=8))
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=14))
    add_interaction(account, "o2", "text", MONDAY + timedelta(days=15))
    # Not activity: a follow (growth counts it) and an automatic location report.
    add_event(account, "o3", FOLLOW, MONDAY)
    add_interaction(account, "o3", "event.location", MONDAY)

    runner.run(ActivityConsumer(), batch=3)

    assert kind_table() == [
        (a, date(2026, 6, 29), "text", "poster", 1, 1),
        (a, date(2026, 6, 30), "event.click", "", 1, 1),
        (a, date(2026, 6, 30), "event.click", "poster", 2, 1),
        (a, date(2026, 7, 7), "text", "", 1, 1),
        (a, date(2026, 7, 13), "text", "poster", 1, 1),
        (a, date(2026, 7, 14), "text", "", 1, 1),
    ]
    weeks = [row[2:] for row in period_table() if row[1] == "w"]
    # (start, channel, active, new, returning, resurrecting, dormant)
    assert weeks == [
        (date(2026, 6, 29), "", 1, 1, 0, 0, 0),
        (date(2026, 6, 29), "poster", 1, 1, 0, 0, 0),
        (date(2026, 7, 6), "", 1, 0, 1, 0, 0),  # o2 came back
        (date(2026, 7, 6), "poster", 0, 0, 0, 0, 1),  # o1 went quiet
        (date(2026, 7, 13), "", 1, 0, 1, 0, 0),  # o2 returning
        (date(2026, 7, 13), "poster", 1, 0, 0, 1, 0),  # o1 resurrecting
        (date(2026, 7, 20), "", 0, 0, 0, 0, 1),
        (date(2026, 7, 20), "poster", 0, 0, 0, 0, 1),
    ]
    months = [row[2:] for row in period_table() if row[1] == "m"]
    assert months == [
        (date(2026, 6, 1), "", 1, 1, 0, 0, 0),
        (date(2026, 6, 1), "poster", 1, 1, 0, 0, 0),
        (date(2026, 7, 1), "", 1, 0, 1, 0, 0),
        (date(2026, 7, 1), "poster", 1, 0, 1, 0, 0),
        (date(2026, 8, 1), "", 0, 0, 0, 0, 1),
        (date(2026, 8, 1), "poster", 0, 0, 0, 0, 1),
    ]
    # o3 only followed: a cursor with its channel, no interaction.
    cursors = ActivityFanCursor.objects.order_by("openid").values_list("openid", "channel", "last_event_id")
    assert [(openid, channel, last is not None) for openid, channel, last in cursors] == [
        ("o1", "poster", True),
        ("o2", "", True),
        ("o3", "", False),
    ]


def test_a_first_follow_arriving_late_moves_the_fans_share_and_a_refollow_does_not() -> None:
    account = make_account()
    a = account.pk
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=7))
    runner.run(ActivityConsumer())
    assert [row[3] for row in period_table()] == [""] * len(period_table())

    # The follow (a week before the first message) is imported after the messages were counted.
    add_event(account, "o1", FOLLOW, MONDAY - timedelta(days=7), "poster")
    runner.run(ActivityConsumer())
    assert kind_table() == [
        (a, date(2026, 6, 29), "text", "poster", 1, 1),
        (a, date(2026, 7, 6), "text", "poster", 1, 1),
    ]
    assert {row[3] for row in period_table()} == {"poster"}

    # A refollow through another QR code later on: the fan stays in the first follow's channel.
    add_event(account, "o1", FOLLOW, MONDAY + timedelta(days=8), "store_1")
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=14))
    runner.run(ActivityConsumer())
    assert {row[3] for row in kind_table()} == {"poster"}

    # A follow earlier than every one known (another import): the whole share moves again.
    add_event(account, "o1", FOLLOW, MONDAY - timedelta(days=30), "flyer")
    runner.run(ActivityConsumer())
    weeks = [row[2:] for row in period_table() if row[1] == "w"]
    assert weeks == [
        (date(2026, 6, 29), "flyer", 1, 1, 0, 0, 0),
        (date(2026, 7, 6), "flyer", 1, 0, 1, 0, 0),
        (date(2026, 7, 13), "flyer", 1, 0, 1, 0, 0),
        (date(2026, 7, 20), "flyer", 0, 0, 0, 0, 1),
    ]
    cursor = ActivityFanCursor.objects.get(openid="o1")
    assert (cursor.channel, cursor.first_follow_at) == ("flyer", MONDAY - timedelta(days=30))
    incremental = (kind_table(), period_table())
    runner.rebuild(ActivityConsumer(), bulk=False)
    assert (kind_table(), period_table()) == incremental == brute_force(SHANGHAI)


def test_a_backdated_interaction_corrects_past_weeks_and_equals_a_rebuild() -> None:
    account = make_account()
    add_interaction(account, "o1", "text", MONDAY)
    add_interaction(account, "o1", "text", MONDAY + timedelta(days=14))
    runner.run(ActivityConsumer())
    weeks = [row[2:] for row in period_table() if row[1] == "w"]
    assert weeks == [
        (date(2026, 6, 29), "", 1, 1, 0, 0, 0),
        (date(2026, 7, 6), "", 0, 0, 0, 0, 1),
        (date(2026, 7, 13), "", 1, 0, 0, 1, 0),
        (date(2026, 7, 20), "", 0, 0, 0, 0, 1),
    ]

    # Imported later: the fan also wrote in the middle week, and before anything we knew.
    add_interaction(account, "o1", "voice", MONDAY + timedelta(days=9))
    add_interaction(account, "o1", "text", MONDAY - timedelta(days=7))
    runner.run(ActivityConsumer())

    weeks = [row[2:] for row in period_table() if row[1] == "w"]
    assert weeks == [
        (date(2026, 6, 22), "", 1, 1, 0, 0, 0),
        (date(2026, 6, 29), "", 1, 0, 1, 0, 0),
        (date(2026, 7, 6), "", 1, 0, 1, 0, 0),
        (date(2026, 7, 13), "", 1, 0, 1, 0, 0),
        (date(2026, 7, 20), "", 0, 0, 0, 0, 1),
    ]
    incremental = (kind_table(), period_table())
    runner.rebuild(ActivityConsumer())
    assert (kind_table(), period_table()) == incremental == brute_force(SHANGHAI)


# 14:00 UTC is 22:00 in Shanghai: the minutes cross China midnights, Mondays and a month's end.
BASE = datetime(2026, 7, 20, 14, tzinfo=UTC)
events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        # "follow:<scene>": a follow through that QR code ("follow:": none), in any order with the rest.
        st.sampled_from(
            ["text", "text", "event.click", "event.view", "event.scan", "follow:a", "follow:b", "follow:"]
        ),
        st.integers(0, 24 * 24 * 60),  # minute: 24 days
    ),
    max_size=30,
)
# After each slice of events: (batch size, batches before stopping (0: to the end), rebuild first?)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.booleans()), min_size=1, max_size=6
)


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


@random_histories(40)
@given(history=events_strategy, runs=runs_strategy, cuts=st.lists(st.integers(0, 30), max_size=5))
def test_incremental_runs_equal_a_rebuild_and_a_brute_force_count(accounts, history, runs, cuts) -> None:
    wipe_events()
    runner.rebuild(ActivityConsumer())  # empty tables and a watermark at zero for this example
    ConsumerState.objects.all().delete()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    slices = [history[a:b] for a, b in itertools.pairwise(bounds)] or [[]]
    for i, events in enumerate(slices):
        for account_i, fan, kind, minute in events:
            at = BASE + timedelta(minutes=minute)
            if kind.startswith("follow:"):
                add_event(accounts[account_i], f"o{fan}", FOLLOW, at, kind.removeprefix("follow:"))
            else:
                add_interaction(accounts[account_i], f"o{fan}", kind, at, "K")
        batch, batches, rebuild_first = runs[i % len(runs)]
        if rebuild_first:
            runner.rebuild(ActivityConsumer(), batch=batch)
        # A fresh consumer object each time: nothing may live in memory between runs.
        runner.run(ActivityConsumer(), batch=batch, max_batches=batches or None)
    runner.run(ActivityConsumer())

    expected = brute_force(SHANGHAI)
    assert (kind_table(), period_table()) == expected
    runner.rebuild(ActivityConsumer(), batch=3)
    assert (kind_table(), period_table()) == expected
