"""The set-based rebuild of fan activity (activity/bulk.py) gives exactly the rows a replay gives, cursors
and channels included, and incremental runs carry on from it as from a replay: for a small history with
the awkward cases named, and for random histories (follows through QR codes arriving late, backdated
earlier follows) fed in random slices with both kinds of rebuild in between."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.activity.bulk_day import day_of
from liucun.activity.consumer import ActivityConsumer
from liucun.activity.definitions import ACTIVE_KINDS
from liucun.activity.models import ActivityFanCursor
from liucun.activity.tests.support import add_interaction, brute_force, kind_table, period_table
from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.events.models import Event
from liucun.rawsql import Sql
from liucun.readmodels import runner
from liucun.readmodels.tests.support import add_event, runs_then_fill_then_more
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Sunday 2026-05-31 15:30 UTC: 23:30 in Shanghai, the last half hour of a week and of a month.
EDGE = datetime(2026, 5, 31, 15, 30, tzinfo=UTC)


def cursor_table() -> list[tuple]:
    return sorted(
        ActivityFanCursor.objects.values_list(
            "account_id",
            "openid",
            "last_at",
            "last_event_id",
            "kind_days",
            "channel",
            "first_follow_at",
            "first_follow_id",
        ),
        key=lambda row: tuple("" if value is None else value for value in row),
    )


def every_row() -> tuple[list[tuple], list[tuple], list[tuple]]:
    return kind_table(), period_table(), cursor_table()


def _replayed_then_filled(consumer: type[ActivityConsumer] = ActivityConsumer, **kwargs: str) -> tuple:
    replayed = runner.rebuild(consumer(**kwargs), bulk=False)
    assert replayed.bulk is None
    expected = every_row()
    filled = runner.rebuild(consumer(**kwargs))
    head = Event.objects.aggregate(head=Max("id"))["head"] or 0
    assert (filled.bulk is not None and filled.bulk.upto, filled.watermark, filled.events) == (head, head, 0)
    return expected, every_row()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_a_set_based_rebuild_gives_every_row_a_replay_gives(zone: str) -> None:
    first, second = make_account(), make_account()
    add_interaction(first, "o1", "text", EDGE)
    add_interaction(first, "o1", "event.click", EDGE + timedelta(minutes=40), "K1")  # Monday, 1 June
    add_event(first, "o1", FOLLOW, EDGE + timedelta(minutes=50), "poster")  # not activity: o1's channel
    add_interaction(first, "o1", "event.location", EDGE + timedelta(hours=1))  # an automatic report
    # Two interactions at the same instant: the cursor takes the higher id.
    add_interaction(first, "o2", "event.view", EDGE + timedelta(days=20), "https://x.test/a")
    add_interaction(first, "o2", "event.view_miniprogram", EDGE + timedelta(days=20), "pages/a")
    add_interaction(first, "o2", "event.scancode_push", EDGE + timedelta(days=3), "K2")
    add_interaction(second, "o1", "voice", EDGE + timedelta(days=45))  # the same openid, another account
    add_interaction(second, "o3", "event.subscribe_msg_popup_event", EDGE - timedelta(days=70))
    add_interaction(second, "o4", "text", datetime(1999, 12, 31, 16, 30, tzinfo=UTC))  # 2000 in Shanghai
    add_event(second, "o3", UNFOLLOW, EDGE - timedelta(days=69))
    add_event(second, "o5", FOLLOW, EDGE, "poster")  # a fan who only followed: a cursor, no counts
    runner.run(ActivityConsumer(time_zone=zone))
    # o2's first follow arrives after its interactions were counted; o1's refollow changes nothing.
    add_event(first, "o2", FOLLOW, EDGE + timedelta(days=1), "store_1")
    add_event(first, "o1", FOLLOW, EDGE + timedelta(days=2), "store_2")
    runner.run(ActivityConsumer(time_zone=zone))
    # Backdated, after the fans' later interactions were counted: o1's first week and month move.
    add_interaction(first, "o1", "image", EDGE - timedelta(days=12))
    add_interaction(first, "o1", "text", EDGE - timedelta(days=40))
    # A follow of o2 earlier than the one known, without a QR code: o2 moves to "".
    add_event(first, "o2", FOLLOW, EDGE - timedelta(days=5))
    runner.run(ActivityConsumer(time_zone=zone))
    incremental = every_row()

    expected, filled = _replayed_then_filled(time_zone=zone)

    assert filled == expected == incremental
    assert expected[:2] == brute_force(ZoneInfo(zone))
    channels = {(row[0], row[3]) for row in expected[0]}
    assert channels == {(first.pk, "poster"), (first.pk, ""), (second.pk, "")}
    kind_days = dict(ActivityFanCursor.objects.values_list("openid", "kind_days").filter(account=second))
    popped_up = (EDGE - timedelta(days=70)).astimezone(ZoneInfo(zone)).date().isoformat()
    assert kind_days["o3"] == f'{{"event.subscribe_msg_popup_event": "{popped_up}"}}'


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "UTC"])
def test_the_day_of_an_instant_in_sql_is_the_python_day(zone: str) -> None:
    tz = ZoneInfo(zone)
    instants = [
        # New York's switch to summer time (2026-03-08 07:00 UTC) and back (2026-11-01 06:00 UTC).
        datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 3, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 1, 4, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 0, 0, tzinfo=UTC),
        # Midnights 8 h and 5 h 45 min east of UTC, a fraction of a second before and after.
        datetime(2026, 7, 1, 15, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 7, 1, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 18, 14, 59, 999500, tzinfo=UTC),
        datetime(2026, 7, 1, 18, 15, 0, tzinfo=UTC),
        # Outside the years the offsets are listed for: the Python function's days.
        datetime(1999, 12, 31, 16, 30, tzinfo=UTC),
        datetime(2100, 1, 1, 3, tzinfo=UTC),
    ]
    sql = Sql(connection)
    day, params = day_of("t.wechat_time", tz)
    with connection.cursor() as cursor:
        # A column declared as Django declares events_event.wechat_time, so that it compares alike.
        cursor.execute(
            "CREATE TEMPORARY TABLE liucun_test_instants (n integer, wechat_time timestamp with time zone)"
            if sql.postgres
            else "CREATE TEMPORARY TABLE liucun_test_instants (n integer, wechat_time datetime)"
        )
        try:
            stored = [sql.dt(at) for at in instants]
            if not sql.postgres:
                stored.append("2026-07-01T15:59:59")  # not as Django stores it: the Python function's day
                instants.append(datetime(2026, 7, 1, 15, 59, 59, tzinfo=UTC))
            cursor.executemany(
                "INSERT INTO liucun_test_instants (n, wechat_time) VALUES (%s, %s)", list(enumerate(stored))
            )
            cursor.execute(f"SELECT {day} FROM liucun_test_instants t ORDER BY n", params)
            days = [str(row[0]) for row in cursor.fetchall()]
        finally:
            cursor.execute("DROP TABLE liucun_test_instants")

    assert days == [at.astimezone(tz).date().isoformat() for at in instants]


def test_a_set_based_rebuild_of_no_interactions_leaves_only_the_followers_cursors() -> None:
    account = make_account()
    add_event(account, "o1", FOLLOW, EDGE, "poster")
    add_event(account, "o1", FOLLOW, EDGE + timedelta(days=1), "store_1")  # a refollow: o1 stays "poster"

    expected, filled = _replayed_then_filled()

    assert filled == expected
    assert expected[:2] == ([], [])
    assert [row[1:] for row in expected[2]] == [("o1", None, None, "{}", "poster", EDGE, expected[2][0][7])]


def test_every_kind_of_interaction_is_in_a_cursor_as_json_dumps_writes_it() -> None:
    account = make_account()
    kinds = sorted(ACTIVE_KINDS, reverse=True)  # the last kind first: sort_keys must put it back
    for i, kind in enumerate(kinds):
        add_interaction(account, "o1", kind, EDGE + timedelta(hours=i), "K")
    days = {
        kind: (EDGE + timedelta(hours=i)).astimezone(SHANGHAI).date().isoformat()
        for i, kind in enumerate(kinds)
    }

    expected, filled = _replayed_then_filled()

    assert filled == expected
    assert [row[4] for row in filled[2]] == [json.dumps(days, sort_keys=True)]


# 14:00 UTC is 22:00 in Shanghai: the minutes cross China midnights, Mondays and a month's end.
BASE = datetime(2026, 7, 20, 14, tzinfo=UTC)
FOLLOWS = ("follow:a", "follow:b", "follow:")
events_strategy = st.lists(
    st.tuples(
        st.integers(0, 1),  # account
        st.integers(0, 3),  # fan
        # "follow:<scene>": a follow through that QR code ("follow:": none), in any order with the rest.
        st.sampled_from(["text", "text", "event.click", "event.view", "image", "event.location", *FOLLOWS]),
        st.integers(0, 40 * 24 * 60),  # minute: 40 days
    ),
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


def _add(accounts: list, account_i: int, fan: int, kind: str, minute: int) -> None:
    at = BASE + timedelta(minutes=minute)
    if kind.startswith("follow:"):
        add_event(accounts[account_i], f"o{fan}", FOLLOW, at, kind.removeprefix("follow:"))
    else:
        add_interaction(accounts[account_i], f"o{fan}", kind, at, "K")


@random_histories(40)
@given(
    history=events_strategy,
    runs=runs_strategy,
    cuts=st.lists(st.integers(0, 30), max_size=5),
    later=events_strategy,
)
def test_set_based_rebuilds_equal_replays_and_incremental_runs_carry_on_from_them(
    accounts, history, runs, cuts, later
) -> None:
    def equal_to_a_brute_force(rows: tuple) -> None:
        assert rows[:2] == brute_force(SHANGHAI)

    runs_then_fill_then_more(
        ActivityConsumer,
        lambda event: _add(accounts, *event),
        every_row,
        _replayed_then_filled,
        history=history,
        runs=runs,
        cuts=cuts,
        later=later,
        check=equal_to_a_brute_force,
    )
