"""The set-based rebuild of "following" (analytics/following_bulk.py) gives exactly the rows a replay gives,
cursors included, and incremental runs carry on from it as from a replay: for a small history with the
awkward cases named, and for random histories fed in random slices with both kinds of rebuild between."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.analytics.following import FollowingConsumer
from liucun.analytics.models import FollowingChange, FollowingFanCursor
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event, runs_then_fill_then_more
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

# 15:30 UTC is 23:30 in Shanghai: half an hour before a China midnight.
EDGE = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)


def every_row() -> tuple[list[tuple], list[tuple]]:
    return (
        sorted(FollowingChange.objects.values_list("account_id", "day", "channel", "gained", "lost")),
        sorted(
            FollowingFanCursor.objects.values_list(
                "account_id", "openid", "last_at", "last_event_id", "following", "channel"
            )
        ),
    )


def replayed_then_filled(**kwargs: str) -> tuple[tuple, tuple]:
    replayed = runner.rebuild(FollowingConsumer(**kwargs), bulk=False)
    assert replayed.bulk is None
    expected = every_row()
    filled = runner.rebuild(FollowingConsumer(**kwargs))
    head = Event.objects.aggregate(head=Max("id"))["head"] or 0
    assert (filled.bulk is not None and filled.bulk.upto, filled.watermark, filled.events) == (head, head, 0)
    return expected, every_row()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_a_set_based_rebuild_gives_every_row_a_replay_gives(zone: str) -> None:
    first, second = make_account(), make_account()
    # Follows twice (the second changes nothing), leaves, comes back through another scene.
    add_event(first, "o1", FOLLOW, EDGE, "poster")
    add_event(first, "o1", FOLLOW, EDGE + timedelta(minutes=40), "store")
    add_event(first, "o1", UNFOLLOW, EDGE + timedelta(days=2))
    add_event(first, "o1", FOLLOW, EDGE + timedelta(days=3), "store")
    # Leaves before any follow is known (lost under ""), leaves again (nothing), found gone by a sync.
    add_event(first, "o2", UNFOLLOW, EDGE)
    add_event(first, "o2", UNFOLLOW_RECONCILED, EDGE + timedelta(hours=1))
    add_event(first, "o2", FOLLOW, EDGE + timedelta(hours=2))
    add_event(first, "o2", UNFOLLOW_RECONCILED, EDGE + timedelta(days=1))
    # The same instant twice: the id decides.
    add_event(second, "o1", FOLLOW, EDGE, "a")
    add_event(second, "o1", UNFOLLOW, EDGE)
    add_event(second, "o3", FOLLOW, EDGE + timedelta(microseconds=1), "a")
    runner.run(FollowingConsumer(time_zone=zone))
    # Backdated, after the fans' later events were counted: o3's follow is no longer what opened its period.
    add_event(second, "o3", FOLLOW, EDGE - timedelta(days=9), "old")
    add_event(first, "o1", UNFOLLOW, EDGE - timedelta(days=1))
    runner.run(FollowingConsumer(time_zone=zone))
    incremental = every_row()

    expected, filled = replayed_then_filled(time_zone=zone)

    assert filled == expected == incremental
    if zone == "Asia/Shanghai":
        assert (second.pk, date(2026, 6, 22), "old", 1, 0) in expected[0]
        assert (first.pk, date(2026, 7, 1), "", 0, 1) in expected[0]  # o1's first event is now an unfollow


def test_a_set_based_rebuild_of_no_lifecycle_events_leaves_empty_tables() -> None:
    account = make_account()
    add_event(account, "o1", "text", EDGE)

    expected, filled = replayed_then_filled()

    assert filled == expected == ([], [])


BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)  # 22:00 in Shanghai
events_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 1]),  # account
        st.integers(0, 2),  # fan: few, so that each has a history of several events
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        st.integers(0, 4 * 24 * 60),  # minute: four days across China midnights
        st.sampled_from(["", "a", "b"]),  # the QR scene of a follow
    ),
    min_size=4,  # hypothesis starts small: a fan with a history from the first examples on
    max_size=30,
)
# After each slice of events: (batch size, batches before stopping (0: to the end), rebuild first and how)
runs_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 3), st.sampled_from(["", "bulk", "replay"])),
    min_size=1,
    max_size=6,
)


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


def _add(accounts: list, account_i: int, fan: int, kind: str, minute: int, channel: str) -> None:
    add_event(accounts[account_i], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel)


@random_histories(30)
@given(
    history=events_strategy,
    runs=runs_strategy,
    cuts=st.lists(st.integers(0, 30), max_size=5),
    later=events_strategy,
)
def test_set_based_rebuilds_equal_replays_and_incremental_runs_carry_on_from_them(
    accounts, history, runs, cuts, later
) -> None:
    runs_then_fill_then_more(
        FollowingConsumer,
        lambda event: _add(accounts, *event),
        every_row,
        replayed_then_filled,
        history=history,
        runs=runs,
        cuts=cuts,
        later=later,
    )
