"""The shared staging of lifecycle events (readmodels/lifecycle_bulk.py): every event numbered and placed in
its follow period as a walk of the fan's history in (WeChat time, id) order places it, on random histories;
staged once for rebuilds in a row inside shared(), and gone after."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.analytics.following import FollowingConsumer
from liucun.analytics.models import FollowingChange
from liucun.cohorts.consumer import StaysConsumer
from liucun.cohorts.models import CohortStays
from liucun.events.kinds import FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED
from liucun.events.models import Event
from liucun.rawsql import Sql
from liucun.readmodels import lifecycle_bulk, runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer, follow_channel
from liucun.readmodels.lifecycle_bulk import EVENTS, PERIODS
from liucun.readmodels.tests.support import add_event, table, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 7, 1, 14, tzinfo=UTC)  # 22:00 in Shanghai
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _nothing_staged_after() -> Iterator[None]:
    yield
    lifecycle_bulk.drop()


def expected_staging(last_id: int, tz: ZoneInfo) -> tuple[list[tuple], list[tuple]]:
    """Each fan's lifecycle events walked in order, as the consumers walk them."""
    per_fan: dict[tuple[int, str], list[Event]] = {}
    lifecycle = [FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED]
    for event in Event.objects.filter(id__lte=last_id, kind__in=lifecycle):
        per_fan.setdefault((event.account_id, event.openid), []).append(event)
    events, periods = [], []
    for (account_id, openid), history in per_fan.items():
        history.sort(key=lambda e: (e.wechat_time, e.id))
        unfollows = follows = 0
        period: list[Any] | None = None
        for nth, event in enumerate(history, 1):
            is_follow = event.kind == FOLLOW
            follows += is_follow
            after_follow = nth > 1 and history[nth - 2].kind == FOLLOW
            channel = follow_channel(event.payload.get("EventKey")) if is_follow else None
            day = event.wechat_time.astimezone(tz).date()
            placed = (int(after_follow), int(nth == len(history)), follows)
            events.append(
                (
                    account_id,
                    openid,
                    unfollows,
                    nth,
                    event.id,
                    event.kind,
                    event.wechat_time,
                    day,
                    channel,
                    *placed,
                )
            )
            if is_follow and period is None:
                period = [account_id, openid, unfollows, event.wechat_time, day, channel, None, None]
                periods.append(period)
            elif not is_follow:
                if period is not None:
                    period[6:] = [event.wechat_time, day]
                period = None
                unfollows += 1
    return sorted(events), sorted(tuple(p) for p in periods)


def staged() -> tuple[list[tuple], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, openid, grp, nth, id, kind, wechat_time, day, follow_channel, after_follow,"
            f" is_last, follow_no FROM {EVENTS}"
        )
        events = [(*row[:6], Sql.read_dt(row[6]), _day(row[7]), *row[8:]) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT account_id, openid, grp, opened_at, open_day, channel, closed_at, close_day"
            f" FROM {PERIODS}"
        )
        periods = [
            (*row[:3], Sql.read_dt(row[3]), _day(row[4]), row[5], Sql.read_dt(row[6]), _day(row[7]))
            for row in cursor.fetchall()
        ]
    return sorted(events), sorted(periods)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


events_strategy = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 1]),  # account
        st.integers(0, 2),  # fan: few, so that each has a long history
        st.sampled_from([FOLLOW, FOLLOW, UNFOLLOW, UNFOLLOW_RECONCILED, "text"]),
        st.integers(0, 3 * 24 * 60),  # minute: across China and New York midnights
        st.sampled_from(["", "a", "b"]),  # the QR scene of a follow
    ),
    max_size=30,
)


@pytest.fixture
def accounts() -> list:
    return [make_account(), make_account()]


@random_histories(60)
@given(history=events_strategy, upto=st.integers(0, 30), zone=st.sampled_from(["Asia/Shanghai", "UTC"]))
def test_staged_events_and_periods_are_the_walk_of_each_fans_history(accounts, history, upto, zone) -> None:
    wipe_events()
    ids = [
        add_event(accounts[a], f"o{fan}", kind, BASE + timedelta(minutes=minute), channel).pk
        for a, fan, kind, minute, channel in history
    ]
    last_id = ids[min(upto, len(ids)) - 1] if ids and upto else 0
    tz = ZoneInfo(zone)

    lifecycle_bulk.stage(last_id, tz, periods=True)

    assert lifecycle_bulk.staged_for() == (last_id, zone)
    assert staged() == expected_staging(last_id, tz)
    lifecycle_bulk.release()
    assert lifecycle_bulk.staged_for() is None


def test_staged_once_for_rebuilds_in_a_row_inside_shared_and_gone_after(monkeypatch) -> None:
    account = make_account()
    add_event(account, "o1", FOLLOW, BASE, "poster")
    add_event(account, "o1", UNFOLLOW, BASE + timedelta(days=2))
    add_event(account, "o2", UNFOLLOW, BASE)
    three = (DailyFollowsConsumer, FollowingConsumer, StaysConsumer)
    for consumer in three:
        runner.rebuild(consumer(), bulk=False)
    replayed = _every_table()
    scans: list[tuple[int, ZoneInfo]] = []
    real = lifecycle_bulk._stage_events

    def counted(cursor: Any, last_id: int, tz: ZoneInfo) -> None:
        scans.append((last_id, tz))
        real(cursor, last_id, tz)

    monkeypatch.setattr(lifecycle_bulk, "_stage_events", counted)

    with lifecycle_bulk.shared():
        results = [runner.rebuild(consumer()) for consumer in three]
        assert lifecycle_bulk.staged_for() is not None  # kept for the next one
        runner.rebuild(FollowingConsumer(time_zone="America/New_York"))  # another zone: staged again
        runner.rebuild(FollowingConsumer())

    head = Event.objects.aggregate(head=Max("id"))["head"]
    assert [r.bulk is not None and r.bulk.upto for r in results] == [head] * 3
    assert scans == [(head, ZoneInfo("Asia/Shanghai")), (head, NEW_YORK), (head, ZoneInfo("Asia/Shanghai"))]
    assert _every_table() == replayed
    assert lifecycle_bulk.staged_for() is None

    # Outside shared(), each rebuild stages for itself and lets go.
    scans.clear()
    for consumer in three:
        runner.rebuild(consumer())
        assert lifecycle_bulk.staged_for() is None
    assert len(scans) == 3
    assert _every_table() == replayed


def test_tables_staged_up_to_another_event_are_staged_again() -> None:
    account = make_account()
    first = add_event(account, "o1", FOLLOW, BASE, "poster")
    second = add_event(account, "o1", UNFOLLOW, BASE + timedelta(days=1))
    with lifecycle_bulk.shared():
        lifecycle_bulk.stage(first.pk, NEW_YORK, periods=True)
        assert staged()[1] == [(account.pk, "o1", 0, BASE, date(2026, 7, 1), "poster", None, None)]
        lifecycle_bulk.stage(second.pk, NEW_YORK, periods=True)
        assert lifecycle_bulk.staged_for() == (second.pk, "America/New_York")
        assert staged()[1][0][6:] == (BASE + timedelta(days=1), date(2026, 7, 2))
    assert lifecycle_bulk.staged_for() is None


def _every_table() -> tuple[list[tuple], ...]:
    return (
        table(),
        sorted(FollowingChange.objects.values_list("account_id", "day", "channel", "gained", "lost")),
        sorted(CohortStays.objects.values_list("account_id", "cohort_day", "channel", "fans", "gone_2")),
    )


def test_rebuilding_every_read_model_scans_the_lifecycle_events_once(monkeypatch) -> None:
    account = make_account()
    add_event(account, "o1", FOLLOW, BASE, "poster")
    add_event(account, "o1", UNFOLLOW, BASE + timedelta(days=2))
    scans: list[int] = []
    real = lifecycle_bulk._stage_events

    def counted(cursor: Any, last_id: int, tz: ZoneInfo) -> None:
        scans.append(last_id)
        real(cursor, last_id, tz)

    monkeypatch.setattr(lifecycle_bulk, "_stage_events", counted)
    call_command("readmodels", "rebuild", stdout=io.StringIO())
    assert len(scans) == 1  # daily follows, following and follow-stays: one scan
    assert lifecycle_bulk.staged_for() is None
    scans.clear()
    runner.run_all()  # the worker's run: nothing far behind, nothing staged
    assert scans == []
