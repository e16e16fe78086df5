"""Event ids commit out of order on PostgreSQL: a consumer never steps over an id that may still appear."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from hypothesis import given
from hypothesis import strategies as st

from liucun.events.kinds import FOLLOW
from liucun.events.models import Event
from liucun.events.store import append_event
from liucun.rawsql import Sql
from liucun.readmodels import runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.tests.support import add_event, table
from liucun.readmodels.visibility import Reach, fence_settled, horizon_of, reach, transaction_horizon, widened
from liucun.testing.factories import make_account

T0 = datetime(2026, 8, 1, 2, tzinfo=UTC)


def test_contiguous_ids_are_read_and_a_gap_stops_the_reader() -> None:
    assert reach([4, 5, 6], watermark=3, settled_upto=0) == Reach(6, blocked=False)
    assert reach([4, 6, 7], watermark=3, settled_upto=0) == Reach(4, blocked=True)
    assert reach([6, 7], watermark=3, settled_upto=0) == Reach(3, blocked=True)
    assert reach([], watermark=3, settled_upto=0) == Reach(3, blocked=False)


def test_a_settled_gap_is_passed_and_one_above_it_is_not() -> None:
    assert reach([4, 6, 9], watermark=3, settled_upto=5) == Reach(6, blocked=True)
    assert reach([4, 6, 9], watermark=3, settled_upto=8) == Reach(9, blocked=False)


@given(
    visible=st.sets(st.integers(1, 60)),
    watermark=st.integers(0, 30),
    settled=st.integers(0, 60),
)
def test_the_reader_never_passes_an_unsettled_missing_id(
    visible: set[int], watermark: int, settled: int
) -> None:
    ids = sorted(i for i in visible if i > watermark)
    result = reach(ids, watermark, settled)
    passed_missing = [i for i in range(watermark + 1, result.upto + 1) if i not in visible]
    assert all(i <= settled for i in passed_missing)
    # And it goes as far as it may: the next visible id is behind an unsettled gap, or there is none.
    following = [i for i in ids if i > result.upto]
    assert result.blocked == bool(following)
    if following:
        assert any(i > settled for i in range(result.upto + 1, following[0]))


def test_transaction_ids_are_widened_next_to_the_snapshot_and_only_this_database_counts() -> None:
    epoch = 3 << 32
    assert widened(5, epoch + 10) == epoch + 5
    assert widened(15, epoch + 10) == epoch + 15  # running, above the snapshot's xmax
    assert widened((1 << 32) - 3, epoch + 2) == epoch - 3  # just before the wrap
    assert horizon_of(epoch + 10, []) == (epoch + 10, epoch + 10)
    assert horizon_of(epoch + 10, [(False, 4), (True, 7), (True, 12)]) == (epoch + 7, epoch + 13)
    assert horizon_of(epoch + 10, [(False, 4), (False, 11)]) == (epoch + 12, epoch + 12)


def test_a_fence_settles_when_older_transactions_ended_and_the_grace_passed() -> None:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    grace = timedelta(seconds=2)
    assert not fence_settled(
        fence_xid=100, seen_at=seen, oldest_running_xid=99, now=seen + grace, grace=grace
    )
    assert not fence_settled(fence_xid=100, seen_at=seen, oldest_running_xid=100, now=seen, grace=grace)
    assert fence_settled(fence_xid=100, seen_at=seen, oldest_running_xid=100, now=seen + grace, grace=grace)


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


def _hold_event(sql: Sql, account_id: int, openid: str) -> int:
    cursor = sql.cursor()
    event_id = append_event(
        cursor,
        sql,
        account_id=account_id,
        openid=openid,
        kind=FOLLOW,
        dedupe_key=f"held:{openid}",
        wechat_time=T0,
        received_at=T0,
        source="callback",
        payload={"EventKey": "qrscene_late"},
        reply="",
    )
    assert event_id is not None
    return event_id


@pytest.mark.django_db(transaction=True)
def test_an_event_that_commits_after_a_higher_id_is_not_skipped(holder: Sql) -> None:
    account = make_account()
    first = add_event(account, "oA", FOLLOW, T0, "early")
    consumer = DailyFollowsConsumer()
    assert runner.run(consumer, grace=timedelta(0)).watermark == first.pk
    held = _hold_event(holder, account.pk, "oB")
    after = add_event(account, "oC", FOLLOW, T0, "early")
    assert first.pk < held < after.pk

    waiting = runner.run(consumer, grace=timedelta(0))
    # Still waiting on a later run: the transaction holding the id has not ended.
    still = runner.run(consumer, grace=timedelta(0))

    assert (waiting.watermark, waiting.waiting_on_gap) == (first.pk, True)
    assert (still.watermark, still.waiting_on_gap) == (first.pk, True)
    assert table(account) == [(account.pk, date(2026, 8, 1), "early", 1, 0, 0, 0)]

    holder.connection.commit()
    done = runner.run(consumer, grace=timedelta(0))

    assert (done.watermark, done.waiting_on_gap, done.events) == (after.pk, False, 2)
    assert table(account) == [
        (account.pk, date(2026, 8, 1), "early", 2, 0, 0, 0),
        (account.pk, date(2026, 8, 1), "late", 1, 0, 0, 0),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_holder_that_wrote_its_row_after_a_later_id_committed_is_waited_for(
    holder: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The holder takes id N, a later delivery takes N + 1 and commits, and the holder writes its row only
    # after the worker's own last commit (its claim): the holder's transaction id is then above every
    # completed one, at the snapshot's xmax, and a fence reckoned from the snapshot's xmin and xmax
    # alone counted it as ended once the grace was over, stepping over N for good.
    account = make_account()
    first = add_event(account, "oA", FOLLOW, T0, "early")
    consumer = DailyFollowsConsumer()
    start = datetime.now(UTC)
    assert runner.run(consumer, now=start).watermark == first.pk
    cursor = holder.cursor()
    cursor.execute("SELECT nextval(pg_get_serial_sequence('events_event', 'id'))")
    (taken,) = cursor.fetchone()
    after = add_event(account, "oC", FOLLOW, T0, "early")
    columns = [f.column for f in Event._meta.concrete_fields if f.column not in ("id", "dedupe_key")]
    listed = ", ".join(columns)
    real_claim = runner.claim

    def claim_then_the_holder_writes(name: str, owner: str, now: datetime) -> bool:
        claimed = real_claim(name, owner, now)
        cursor.execute(
            f"INSERT INTO events_event (id, dedupe_key, {listed})"
            f" SELECT %s, 'held:oB', {listed} FROM events_event WHERE id = %s",
            [taken, after.pk],
        )
        monkeypatch.setattr(runner, "claim", real_claim)
        return claimed

    monkeypatch.setattr(runner, "claim", claim_then_the_holder_writes)
    waiting = runner.run(consumer, now=start)
    long_after = runner.run(consumer, now=start + runner.GAP_GRACE * 10)

    assert first.pk < taken < after.pk
    assert (waiting.watermark, waiting.waiting_on_gap) == (first.pk, True)
    assert (long_after.watermark, long_after.waiting_on_gap) == (first.pk, True)
    holder.connection.commit()
    done = _once_other_transactions_end(lambda: runner.run(consumer, now=start + runner.GAP_GRACE * 10))
    assert (done.watermark, done.events) == (after.pk, 2)
    assert table(account) == [(account.pk, date(2026, 8, 1), "early", 2, 1, 0, 0)]  # oC twice: a refollow


@pytest.mark.django_db(transaction=True)
def test_an_id_whose_transaction_rolled_back_is_passed_once_the_grace_is_over(holder: Sql) -> None:
    account = make_account()
    first = add_event(account, "oA", FOLLOW, T0, "early")
    consumer = DailyFollowsConsumer()
    start = datetime.now(UTC)
    assert runner.run(consumer, now=start).watermark == first.pk
    _hold_event(holder, account.pk, "oB")
    after = add_event(account, "oC", FOLLOW, T0, "early")

    assert runner.run(consumer, now=start).watermark == first.pk
    holder.connection.rollback()
    # The holder is gone, but the grace period (for a transaction between taking an id and writing it)
    # is not over yet.
    assert runner.run(consumer, now=start + timedelta(seconds=1)).watermark == first.pk
    passed = _once_other_transactions_end(lambda: runner.run(consumer, now=start + runner.GAP_GRACE))

    assert (passed.watermark, passed.waiting_on_gap) == (after.pk, False)
    state = ConsumerState.objects.get(name=consumer.name)
    assert (state.settled_upto, state.gap_fence_id) == (after.pk, None)
    assert table(account) == [(account.pk, date(2026, 8, 1), "early", 2, 0, 0, 0)]


def _once_other_transactions_end(run: Callable[[], runner.RunResult]) -> runner.RunResult:
    """Run until the gap settles: a transaction of this database (the test's own server) may still hold
    the oldest running transaction for a moment; only that, never the grace, is waited for here."""
    deadline = time.monotonic() + 60
    result = run()
    while result.waiting_on_gap and time.monotonic() < deadline:
        time.sleep(0.2)
        result = run()
    return result


@pytest.mark.django_db
def test_a_reader_inside_a_transaction_that_wrote_does_not_wait_for_itself() -> None:
    # A consumer run inside a transaction of its own (a test, a command in an atomic block) whose writes
    # took an xid: its own rows are visible to it, so the gap an id burnt inside it leaves must settle.
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's gaps are final at once")
    account = make_account()
    first = add_event(account, "oA", FOLLOW, T0, "early")
    try:
        with transaction.atomic():
            add_event(account, "oB", FOLLOW, T0, "early")
            raise RuntimeError("rolled back: its id is burnt")
    except RuntimeError:
        pass
    after = add_event(account, "oC", FOLLOW, T0, "early")
    consumer = DailyFollowsConsumer()
    start = datetime.now(UTC)

    fenced = runner.run(consumer, now=start, grace=timedelta(0))
    settled = runner.run(consumer, now=start, grace=timedelta(0))

    assert (fenced.watermark, fenced.waiting_on_gap) == (first.pk, True)
    assert (settled.watermark, settled.waiting_on_gap) == (after.pk, False)


@pytest.mark.django_db(transaction=True)
def test_a_transaction_in_another_database_of_the_server_does_not_hold_a_gap_open(holder: Sql) -> None:
    # Event ids are held only by transactions of Liucun's own database; one of another database on the
    # same server (a long report, another application, the other test worker) must not stall read models.
    settings = {**connection.settings_dict, "NAME": "postgres"}
    other = connections["default"].__class__(settings, alias="other-database")
    other.set_autocommit(False)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            elsewhere = int(cursor.fetchone()[0])
        with connection.cursor() as cursor:
            oldest, next_xid = transaction_horizon(cursor)
        assert oldest > elsewhere
        assert next_xid > elsewhere

        held = _hold_event(holder, make_account().pk, "oB")
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            mine = int(cursor.fetchone()[0])
        with connection.cursor() as cursor:
            oldest, next_xid = transaction_horizon(cursor)
        # The holder's id is at or above the snapshot's xmax (nothing completed after it took it): it is
        # still the oldest, and the next id to be assigned is past it.
        assert held and oldest == mine < next_xid
    finally:
        other.rollback()
        other.close()
