"""Set-based rebuilds (Consumer.rebuild_bulk): the same rows as a replay, a safe watermark, and a replay for
consumers without one. Random histories: test_property.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.events.models import Event, EventSource
from liucun.events.store import append_event
from liucun.rawsql import Sql
from liucun.readmodels import runner
from liucun.readmodels.bulksql import local_day, payload_text
from liucun.readmodels.consumer import Consumer
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState, FollowFanCursor
from liucun.readmodels.tests.support import add_event, table
from liucun.testing.factories import make_account

T0 = datetime(2026, 8, 1, 2, tzinfo=UTC)


def _follow_with_payload(account, openid: str, at: datetime, payload: dict[str, str]) -> Event:
    return Event.objects.create(
        account=account,
        openid=openid,
        kind=FOLLOW,
        dedupe_key=f"raw:{openid}:{at.timestamp()}",
        wechat_time=at,
        received_at=at,
        source=EventSource.CALLBACK,
        payload={"MsgType": "event", **payload},
    )


def _cursors() -> list[tuple]:
    return sorted(
        FollowFanCursor.objects.values_list("account_id", "openid", "last_at", "last_event_id", "channel")
    )


@pytest.mark.django_db
def test_event_keys_that_are_not_qr_scenes_count_under_no_channel_as_the_replay_counts_them() -> None:
    account = make_account()
    _follow_with_payload(account, "oNoKey", T0, {})
    _follow_with_payload(account, "oUpper", T0, {"EventKey": "QRSCENE_shout"})
    _follow_with_payload(account, "oEmpty", T0, {"EventKey": "qrscene_"})
    _follow_with_payload(account, "oOther", T0, {"EventKey": "last_trade_no_123"})
    _follow_with_payload(account, "oQr", T0, {"EventKey": "qrscene_store 7/门店"})
    add_event(account, "oQr", UNFOLLOW, T0 + timedelta(hours=1))
    replayed = runner.rebuild(DailyFollowsConsumer(), bulk=False)
    expected, expected_cursors = table(), _cursors()

    filled = runner.rebuild(DailyFollowsConsumer())

    assert (replayed.bulk, filled.bulk is not None) == (None, True)
    assert expected == [
        (account.pk, date(2026, 8, 1), "", 4, 0, 0, 0),
        (account.pk, date(2026, 8, 1), "store 7/门店", 1, 0, 1, 0),
    ]
    assert (table(), _cursors()) == (expected, expected_cursors)


@pytest.mark.django_db
def test_after_a_set_based_rebuild_new_and_backdated_events_are_folded_in_incrementally() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, T0, "poster")
    add_event(account, "oA", UNFOLLOW, T0 + timedelta(days=2))
    add_event(account, "oB", FOLLOW, T0, "")
    first = runner.rebuild(DailyFollowsConsumer())
    assert first.bulk is not None and first.watermark == first.bulk.upto

    add_event(account, "oA", FOLLOW, T0 + timedelta(days=3), "store")  # in order: a refollow
    # Backdated: oB's follow on 1 August is now a refollow.
    add_event(account, "oB", FOLLOW, T0 - timedelta(days=5), "old")
    later = runner.run(DailyFollowsConsumer())

    assert later.events == 2
    assert table(account) == [
        (account.pk, date(2026, 7, 27), "old", 1, 0, 0, 0),
        (account.pk, date(2026, 8, 1), "", 0, 1, 0, 0),
        (account.pk, date(2026, 8, 1), "poster", 1, 0, 0, 0),
        (account.pk, date(2026, 8, 3), "poster", 0, 0, 1, 0),
        (account.pk, date(2026, 8, 4), "store", 0, 1, 0, 0),
    ]


class _NoBulkAfterAll(DailyFollowsConsumer):
    """Has the hook but declines (e.g. a database it has no SQL for)."""

    def rebuild_bulk(self, last_id: int) -> bool:
        return False


class _NeverHadBulk(DailyFollowsConsumer):
    """Has no set-based rebuild at all (the base class's hook)."""

    rebuild_bulk = Consumer.rebuild_bulk


@pytest.mark.django_db
def test_a_consumer_without_a_set_based_rebuild_replays_every_event() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, T0, "poster")
    add_event(account, "oA", "text", T0)
    add_event(account, "oA", UNFOLLOW, T0 + timedelta(hours=1))
    runner.run(DailyFollowsConsumer())
    expected = table()

    declined = runner.rebuild(_NoBulkAfterAll())

    assert (declined.bulk, declined.events, declined.rebuilt) == (None, 2, True)
    assert table() == expected
    assert ConsumerState.objects.get(name="daily-follows").events_seen == 2

    assert _NeverHadBulk().supports_bulk() is False
    assert runner.rebuild(_NeverHadBulk()).bulk is None


@pytest.mark.django_db
def test_a_changed_fingerprint_rebuilds_set_based() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, datetime(2026, 8, 1, 20, tzinfo=UTC), "poster")
    runner.run(DailyFollowsConsumer())
    assert table(account) == [(account.pk, date(2026, 8, 2), "poster", 1, 0, 0, 0)]  # Shanghai

    result = runner.run(DailyFollowsConsumer(time_zone="UTC"))

    assert result.rebuilt is True
    assert table(account) == [(account.pk, date(2026, 8, 1), "poster", 1, 0, 0, 0)]
    assert ConsumerState.objects.get(name="daily-follows").fingerprint == "v1:UTC"


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "UTC"])
def test_the_sql_day_of_an_instant_is_the_python_day(zone: str) -> None:
    tz = ZoneInfo(zone)
    account = make_account()
    # Around New York's switch to summer time (2026-03-08 07:00 UTC) and back (2026-11-01 06:00 UTC),
    # and around midnights of zones 8 h and 5 h 45 min east of UTC.
    instants = [
        datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 3, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 1, 4, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 15, 59, 59, tzinfo=UTC),
        datetime(2026, 7, 1, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 18, 14, 59, tzinfo=UTC),
        datetime(2026, 7, 1, 18, 15, 0, tzinfo=UTC),
    ]
    events = [add_event(account, f"o{i}", "text", at) for i, at in enumerate(instants)]
    day, params = local_day("wechat_time", tz)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {day}, {payload_text('payload', 'FromUserName')} FROM events_event "
            "WHERE account_id = %s ORDER BY id",
            [*params, account.pk],
        )
        rows = cursor.fetchall()

    assert [(row[0], str(row[1]), row[2]) for row in rows] == [
        (e.pk, str(at.astimezone(tz).date()), f"o{i}")
        for i, (e, at) in enumerate(zip(events, instants, strict=True))
    ]


def test_a_payload_field_name_is_never_sql() -> None:
    with pytest.raises(ValueError, match="not a payload field name"):
        payload_text("payload", "x'); DROP TABLE events_event; --")


@pytest.fixture
def holder() -> Iterator[Sql]:
    """A second connection whose transaction takes an event id and stays open."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: its ids cannot commit out of order")
    other = connections.create_connection("default")
    other.set_autocommit(False)
    try:
        yield Sql(other)
    finally:
        other.rollback()
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_set_based_rebuild_never_passes_an_event_still_being_written(
    holder: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = make_account()
    first = add_event(account, "oA", FOLLOW, T0, "early")
    cursor = holder.cursor()
    held = append_event(
        cursor,
        holder,
        account_id=account.pk,
        openid="oB",
        kind=FOLLOW,
        dedupe_key="held:oB",
        wechat_time=T0,
        received_at=T0,
        source="callback",
        payload={"EventKey": "qrscene_late"},
        reply="",
    )
    after = add_event(account, "oC", FOLLOW, T0, "early")
    assert held is not None and first.pk < held < after.pk
    monkeypatch.setattr(runner, "BULK_LOCK_TIMEOUT", timedelta(milliseconds=200))

    # The insert in flight holds its lock: no watermark is safe, so the rebuild replays, up to the gap.
    waiting = runner.rebuild(DailyFollowsConsumer(), bulk=True)

    assert (waiting.bulk, waiting.watermark, waiting.waiting_on_gap) == (None, first.pk, True)
    holder.connection.commit()
    filled = runner.rebuild(DailyFollowsConsumer(), bulk=True)
    assert filled.bulk is not None and filled.bulk.upto == after.pk
    assert table(account) == [
        (account.pk, date(2026, 8, 1), "early", 2, 0, 0, 0),
        (account.pk, date(2026, 8, 1), "late", 1, 0, 0, 0),
    ]
