"""The set-based rebuild of follow-stays (cohorts/bulk.py) gives exactly the rows a replay gives, cursors
included, and incremental runs carry on from it as from a replay: for a small history with the awkward
cases named, whole days stayed to the microsecond, and random histories fed in random slices with both
kinds of rebuild between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.cohorts import bulk
from liucun.cohorts.consumer import StaysConsumer, stay_days
from liucun.cohorts.models import BIN_COLUMNS, BIN_STARTS, CohortStays, StayFanCursor, bin_of
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.rawsql import Sql
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event, runs_then_fill_then_more
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

# 15:30 UTC is 23:30 in Shanghai: half an hour before a China midnight.
EDGE = datetime(2026, 7, 1, 15, 30, tzinfo=UTC)
DAY = timedelta(days=1)
MICRO = timedelta(microseconds=1)


def every_row() -> tuple[list[tuple], list[tuple]]:
    return (
        sorted(CohortStays.objects.values_list("account_id", "cohort_day", "channel", "fans", *BIN_COLUMNS)),
        sorted(
            StayFanCursor.objects.values_list(
                "account_id", "openid", "last_at", "last_event_id", "open_since", "open_channel"
            )
        ),
    )


def replayed_then_filled(**kwargs: str) -> tuple[tuple, tuple]:
    replayed = runner.rebuild(StaysConsumer(**kwargs), bulk=False)
    assert replayed.bulk is None
    expected = every_row()
    filled = runner.rebuild(StaysConsumer(**kwargs))
    head = Event.objects.aggregate(head=Max("id"))["head"] or 0
    assert (filled.bulk is not None and filled.bulk.upto, filled.watermark, filled.events) == (head, head, 0)
    return expected, every_row()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_a_set_based_rebuild_gives_every_row_a_replay_gives(zone: str) -> None:
    first, second = make_account(), make_account()
    # A follow while following changes nothing; the period ends a microsecond short of one whole day.
    add_event(first, "o1", FOLLOW, EDGE, "poster")
    add_event(first, "o1", FOLLOW, EDGE + timedelta(hours=3), "store")
    add_event(first, "o1", UNFOLLOW, EDGE + DAY - MICRO)
    # Back through another scene for exactly one day, then for 33 days (bin 30), then 400 (bin 365).
    add_event(first, "o1", FOLLOW, EDGE + 2 * DAY + timedelta(microseconds=250), "store")
    add_event(first, "o1", UNFOLLOW_RECONCILED, EDGE + 3 * DAY + timedelta(microseconds=250))
    add_event(first, "o1", FOLLOW, EDGE + 4 * DAY)
    add_event(first, "o1", UNFOLLOW, EDGE + 37 * DAY)
    add_event(first, "o1", FOLLOW, EDGE + 40 * DAY, "a")
    add_event(first, "o1", UNFOLLOW, EDGE + 440 * DAY)
    # An unfollow before any follow and another after it add nothing; then a period still open.
    add_event(first, "o2", UNFOLLOW, EDGE)
    add_event(first, "o2", UNFOLLOW_RECONCILED, EDGE + timedelta(hours=1))
    add_event(first, "o2", FOLLOW, EDGE + timedelta(hours=2), "poster")
    # The same instant twice, the same openid in another account: the id decides.
    add_event(second, "o1", FOLLOW, EDGE, "a")
    add_event(second, "o1", UNFOLLOW, EDGE)
    add_event(second, "o3", FOLLOW, EDGE + MICRO, "a")
    runner.run(StaysConsumer(time_zone=zone))
    # Backdated, after the fans' later events were counted: o3's period now opened nine days earlier.
    add_event(second, "o3", FOLLOW, EDGE - 9 * DAY, "old")
    add_event(first, "o2", FOLLOW, EDGE - DAY, "older")
    runner.run(StaysConsumer(time_zone=zone))
    incremental = every_row()

    expected, filled = replayed_then_filled(time_zone=zone)

    assert filled == expected == incremental
    gone = {start: sum(row[4 + i] for row in expected[0]) for i, start in enumerate(BIN_STARTS)}
    # Short of a day: o1's first stay, second's o1. Exactly one: o1's second, o2's backdated one.
    assert {start: n for start, n in gone.items() if n} == {0: 2, 1: 2, 30: 1, 365: 1}


def test_a_set_based_rebuild_of_no_lifecycle_events_leaves_empty_tables() -> None:
    account = make_account()
    add_event(account, "o1", "text", EDGE)

    expected, filled = replayed_then_filled()

    assert filled == expected == ([], [])


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-07-01 15:30:00", "2026-07-02 15:29:59.999999"),
        ("2026-07-01 15:30:00.000001", "2026-07-02 15:30:00.000001"),
        ("2026-07-01 15:30:00.5", "2026-07-02 15:30:00.499999"),  # not as Django stores it: Python
        ("2026-07-01T15:30:00", "2027-07-01T15:30:00"),  # nor this
        ("2026-02-27 23:59:59.999999", "2026-03-01 00:00:00"),
        ("2026-07-01 00:00:00", "2026-07-01 00:00:00"),
    ],
)
def test_whole_days_stayed_in_sql_are_the_python_ones(since: str, until: str) -> None:
    pairs: list[tuple[Any, Any]] = [(since, until)]  # SQLite: the text as stored
    if connection.vendor == "postgresql":
        pairs = [(datetime.fromisoformat(since + "+00:00"), datetime.fromisoformat(until + "+00:00"))]
    followed, unfollowed = Sql.read_dt(pairs[0][0]), Sql.read_dt(pairs[0][1])
    assert followed is not None and unfollowed is not None
    expected = stay_days(followed, unfollowed)
    column = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE liucun_test_stays (since {column}, until {column})")
        try:
            cursor.executemany("INSERT INTO liucun_test_stays (since, until) VALUES (%s, %s)", pairs)
            days = bulk.stay_days("until", "since")
            cursor.execute(f"SELECT {days}, {bulk.bin_start(days)} FROM liucun_test_stays")
            found = cursor.fetchone()
        finally:
            cursor.execute("DROP TABLE liucun_test_stays")

    assert tuple(found) == (expected, BIN_STARTS[bin_of(expected)])


def test_the_bin_of_every_stay_in_sql_is_the_python_bin() -> None:
    stays = list(range(0, 800))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE liucun_test_bins (days integer)")
        try:
            cursor.executemany("INSERT INTO liucun_test_bins (days) VALUES (%s)", [(d,) for d in stays])
            cursor.execute(f"SELECT days, {bulk.bin_start('days')} AS bin FROM liucun_test_bins ORDER BY 1")
            found = cursor.fetchall()
        finally:
            cursor.execute("DROP TABLE liucun_test_bins")

    assert found == [(d, BIN_STARTS[bin_of(d)]) for d in stays]


BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)  # 22:00 in Shanghai
events_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 1]),  # account
        st.integers(0, 2),  # fan: few, so that each has a history of several events
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        # Minutes over 50 days, mostly in the first three: stays of hours, days and binned weeks.
        st.one_of(st.integers(0, 3 * 24 * 60), st.integers(0, 50 * 24 * 60)),
        st.sampled_from([0, 0, 1, 999_999]),  # microseconds: whole days a hair short or over
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


def _add(accounts: list, account_i: int, fan: int, kind: str, minute: int, micro: int, channel: str) -> None:
    at = BASE + timedelta(minutes=minute, microseconds=micro)
    add_event(accounts[account_i], f"o{fan}", kind, at, channel)


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
        StaysConsumer,
        lambda event: _add(accounts, *event),
        every_row,
        replayed_then_filled,
        history=history,
        runs=runs,
        cuts=cuts,
        later=later,
    )
