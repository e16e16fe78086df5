"""A worker catching up a read model far behind: rebuilt set-based from zero when it can be (the same rows
as a replay), replayed when only slightly behind, the lease held through a long rebuild, and large
replay batches while no callback waits for the write lock."""

from __future__ import annotations

import io
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max
from hypothesis import given
from hypothesis import strategies as st

from liucun.activity.consumer import ActivityConsumer
from liucun.activity.tests.support import add_interaction, kind_table, period_table
from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.events.models import Event, EventSource
from liucun.readmodels import lease, pace, runner
from liucun.readmodels.consumer import Consumer
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState, FollowFanCursor
from liucun.readmodels.tests.support import add_event, table, wipe_events
from liucun.testing.factories import make_account
from liucun.testing.suites import random_histories

T0 = datetime(2026, 9, 1, 2, tzinfo=UTC)


def _head() -> int:
    return Event.objects.aggregate(head=Max("id"))["head"] or 0


def _follows_and_unfollows() -> int:
    """What daily follows folds in one by one: every event it read was replayed, none filled in SQL."""
    return Event.objects.filter(kind__in=[FOLLOW, UNFOLLOW]).count()


def _rows() -> tuple[list, list, list, list]:
    """Every row of the two consumers the tests run: daily follows with cursors, fan activity's tables."""
    cursors = sorted(
        FollowFanCursor.objects.values_list("account_id", "openid", "last_at", "last_event_id", "channel")
    )
    return table(), cursors, kind_table(), period_table()


def _events(account, count: int, start: int = 0) -> None:
    """`count` events of a few fans, each fan's together (as the bulk history import numbers them)."""
    for i in range(start, start + count):
        fan, minute = f"o{i // 4}", i % 4
        if minute == 0:
            add_event(account, fan, FOLLOW, T0 + timedelta(days=i % 3), "poster")
        elif minute == 3 and i % 8 == 3:
            add_event(account, fan, UNFOLLOW, T0 + timedelta(days=3, minutes=i))
        else:
            add_interaction(account, fan, "text", T0 + timedelta(days=i % 5, minutes=minute))


@pytest.mark.django_db
def test_the_rule_far_behind() -> None:
    floor = pace.CATCH_UP_FLOOR
    assert pace.far_behind(0, floor) is True  # nothing folded yet: a new read model, a fresh import
    assert pace.far_behind(0, floor - 1) is False  # a small store replays
    assert pace.far_behind(floor, 2 * floor) is True  # as many left as folded
    assert pace.far_behind(floor, 2 * floor - 1) is False
    assert pace.far_behind(10 * floor, 12 * floor) is False  # a worker down for a while: replayed


@pytest.mark.django_db
def test_a_consumer_far_behind_is_rebuilt_set_based_with_the_rows_a_replay_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 10)
    account = make_account()
    _events(account, 6)
    assert runner.run(DailyFollowsConsumer()).bulk is None  # 6 ids: under the floor, replayed
    assert runner.run(ActivityConsumer()).bulk is None
    _events(account, 30, start=6)  # 30 ids left against 6 folded: far behind

    caught_up = [runner.run(DailyFollowsConsumer()), runner.run(ActivityConsumer())]

    head = _head()
    for result in caught_up:
        assert result.far_behind and result.rebuilt
        assert result.bulk is not None and result.bulk.upto == head
        assert (result.watermark, result.events) == (head, 0)
    filled = _rows()
    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    runner.rebuild(ActivityConsumer(), bulk=False)
    assert filled == _rows()
    assert filled[0] and filled[2]  # not two empty tables


@pytest.mark.django_db
def test_far_behind_while_callbacks_come_in_on_sqlite_it_replays(monkeypatch: pytest.MonkeyPatch) -> None:
    # The set-based swap holds SQLite's write lock once for its whole copy: not while callbacks wait.
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 10)
    monkeypatch.setattr(runner, "callbacks_waiting", lambda now=None: True)
    account = make_account()
    _events(account, 30)

    result = runner.run(DailyFollowsConsumer())

    assert (result.bulk, result.far_behind, result.watermark) == (None, True, _head())
    replayed = _rows()[:2]
    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    assert _rows()[:2] == replayed


@pytest.mark.django_db
def test_a_consumer_slightly_behind_is_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    account = make_account()
    _events(account, 20)
    runner.run(DailyFollowsConsumer())  # under the floor: replayed
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 10)
    _events(account, 12, start=20)  # past the floor, but fewer left (12) than folded (20)

    result = runner.run(DailyFollowsConsumer())

    assert (result.bulk, result.rebuilt, result.far_behind) == (None, False, True)
    assert result.watermark == _head()
    assert ConsumerState.objects.get(name="daily-follows").events_seen == _follows_and_unfollows()
    replayed = _rows()[:2]
    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    assert _rows()[:2] == replayed


class _Declines(DailyFollowsConsumer):
    def rebuild_bulk(self, last_id: int) -> bool:
        super().rebuild_bulk(last_id)  # writes, then declines: they must not stay
        return False


@pytest.mark.django_db
def test_far_behind_without_a_safe_watermark_or_a_fill_it_replays_from_where_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 10)
    account = make_account()
    _events(account, 4)
    runner.run(DailyFollowsConsumer())
    first = ConsumerState.objects.get(name="daily-follows")
    _events(account, 20, start=4)

    # PostgreSQL with inserts in flight past BULK_LOCK_TIMEOUT: no watermark is safe.
    monkeypatch.setattr(runner, "bulk_watermark", lambda: None)
    waited = runner.run(DailyFollowsConsumer())
    state = ConsumerState.objects.get(name="daily-follows")
    assert (waited.bulk, waited.rebuilt, waited.far_behind) == (None, False, True)
    # Nothing was reset: the watermark moved on from where it was, the rebuild time is the old one.
    assert (waited.watermark, state.rebuilt_at) == (_head(), first.rebuilt_at)
    assert state.events_seen == _follows_and_unfollows()

    monkeypatch.undo()
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 10)
    _events(account, 30, start=24)  # 30 ids left against 24 folded: far behind again
    declined = runner.run(_Declines())
    assert (declined.bulk, declined.rebuilt, declined.watermark) == (None, False, _head())
    assert ConsumerState.objects.get(name="daily-follows").events_seen == _follows_and_unfollows()
    replayed = _rows()[:2]
    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    assert _rows()[:2] == replayed


class _Slow(DailyFollowsConsumer):
    """A set-based rebuild whose reading outlasts the lease several times over; meanwhile another worker
    tries to take the consumer."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.claims: list[bool] = []

    def prepare_bulk(self, last_id: int) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            time.sleep(self.seconds / 5)
            self.claims.append(runner.claim(self.name, "worker-2", datetime.now(UTC)))
        super().prepare_bulk(last_id)


@pytest.fixture
def writers_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test database on SQLite is in memory, where serialized_writes has no lock file to take, and its
    shared cache refuses a second connection's write at once rather than waiting: a lock of the process
    makes the lease thread and the test's writes take turns, as the lock file does for a database file."""
    turns = threading.Lock()

    @contextmanager
    def one_at_a_time(using: str = "default") -> Iterator[None]:
        with turns:
            yield

    monkeypatch.setattr(runner, "serialized_writes", one_at_a_time)
    monkeypatch.setattr(lease, "serialized_writes", one_at_a_time)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("writers_take_turns")
def test_the_lease_is_held_through_a_long_rebuild_and_a_concurrent_claim_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 1)
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=0.4))
    monkeypatch.setattr(lease, "RENEW_EVERY", timedelta(seconds=0.05))
    account = make_account()
    _events(account, 8)
    slow = _Slow(seconds=2.0)  # five leases

    result = runner.run(slow, owner="worker-1")

    assert result.bulk is not None and result.bulk.upto == _head()
    assert len(slow.claims) >= 4 and not any(slow.claims)
    assert ConsumerState.objects.get(name="daily-follows").owner == ""  # released at the end
    assert [t for t in threading.enumerate() if t.name.startswith("lease-")] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("writers_take_turns")
def test_without_renewal_the_lease_runs_out_and_the_rebuild_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the renewal prevents: the same slow rebuild with a renewal slower than the lease."""
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 1)
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=0.2))
    monkeypatch.setattr(lease, "RENEW_EVERY", timedelta(seconds=30))
    account = make_account()
    _events(account, 8)
    slow = _Slow(seconds=1.0)

    with pytest.raises(runner.NotClaimed):
        runner.run(slow, owner="worker-1")

    assert any(slow.claims)
    state = ConsumerState.objects.get(name="daily-follows")
    assert (state.owner, state.last_event_id) == ("worker-2", 0)
    assert table() == []


@pytest.mark.django_db
def test_callbacks_waiting_sees_a_recent_callback_among_the_newest_events() -> None:
    account = make_account()
    now = datetime.now(UTC)

    def stored(source: EventSource, received_at: datetime) -> None:
        Event.objects.create(
            account=account,
            openid="oA",
            kind="text",
            dedupe_key=f"live:{source}:{received_at.timestamp()}",
            wechat_time=received_at,
            received_at=received_at,
            source=source,
            payload={},
        )

    stored(EventSource.IMPORT, now)
    stored(EventSource.CALLBACK, now - timedelta(minutes=5))
    assert pace.callbacks_waiting(now) is False  # imported history, an old callback
    stored(EventSource.CALLBACK, now - timedelta(seconds=5))
    # PostgreSQL's callbacks never wait for a consumer's write.
    assert pace.callbacks_waiting(now) is runner.serial_ids()


def test_a_far_behind_replay_takes_large_batches_while_no_callback_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = [False]
    monkeypatch.setattr(pace, "callbacks_waiting", lambda: live[0])
    big = pace.CATCH_UP_BATCH
    batches = pace.Pace(batch=5000, far_behind=True)

    assert batches.size() == big
    batches.wrote(2.5)  # slow for a callback, but under CATCH_UP_WRITE_SECONDS: kept
    assert batches.size() == big
    batches.wrote(4.0)
    assert batches.size() == big // 2
    for _ in range(10):
        batches.wrote(9.0)
    assert batches.size() == 5000  # never below the normal batch
    batches.wrote(0.1)
    assert batches.size() == 10_000

    live[0] = True  # a callback came in: the normal batch and the write target again
    assert batches.size() == 5000
    batches.wrote(0.5)
    assert batches.size() == 2500
    live[0] = False
    assert batches.size() == big  # quiet again

    # A run that did not start far behind keeps the normal pace, callbacks or not.
    normal = pace.Pace(batch=5000, far_behind=False)
    assert normal.size() == 5000
    normal.wrote(0.5)
    assert normal.size() == 2500


@pytest.mark.django_db
def test_status_and_run_say_what_a_far_behind_consumer_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "CATCH_UP_FLOOR", 3)
    account = make_account()
    _events(account, 8)

    def command(*args: str) -> str:
        out = io.StringIO()
        call_command("readmodels", *args, stdout=out)
        return out.getvalue()

    assert command("status", "daily-follows").endswith(
        ", far behind: the next run rebuilds it set-based (replays it while callbacks come in on SQLite)\n"
    )
    ran = command("run", "daily-follows")
    assert ran.startswith(
        f"daily-follows: far behind: rebuilt set-based instead of replayed, filled set-based up to event "
        f"{_head()} in "
    )
    assert ran.endswith("(rebuilt)\n")
    assert "far behind" not in command("status", "daily-follows")
    monkeypatch.setattr(DailyFollowsConsumer, "rebuild_bulk", Consumer.rebuild_bulk)
    _events(account, 20, start=8)
    assert command("status", "daily-follows").endswith(
        ", far behind: the next run replays it, in large batches while no callback waits\n"
    )


# Random histories: each slice is followed by a run under a random floor, so runs are far behind or
# not at random; whichever way each took, the tables equal a replay of every event.
history_strategy = st.lists(
    st.tuples(
        st.integers(0, 5),  # fan
        st.sampled_from(["follow", "unfollow", "text", "text", "event.click"]),
        st.integers(0, 20 * 24 * 60),  # minute of 20 days, in any order
    ),
    max_size=40,
)
runs_strategy = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 6)), min_size=1, max_size=5)


@pytest.mark.django_db
@random_histories(30)
@given(history=history_strategy, cuts=st.lists(st.integers(0, 40), max_size=4), runs=runs_strategy)
def test_runs_far_behind_or_not_give_the_rows_of_a_replay(
    monkeypatch: pytest.MonkeyPatch, history, cuts, runs
) -> None:
    wipe_events()
    ConsumerState.objects.all().delete()
    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    runner.rebuild(ActivityConsumer(), bulk=False)
    account = make_account()
    bounds = sorted({0, len(history), *(min(c, len(history)) for c in cuts)})
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        for fan, kind, minute in history[a:b]:
            at, openid = T0 + timedelta(minutes=minute), f"o{fan}"
            if kind == "follow":
                add_event(account, openid, FOLLOW, at, f"ch{fan % 2}")
            elif kind == "unfollow":
                add_event(account, openid, UNFOLLOW, at)
            else:
                add_interaction(account, openid, kind, at, "K")
        floor, batch = runs[i % len(runs)]
        monkeypatch.setattr(pace, "CATCH_UP_FLOOR", floor)
        for consumer in (DailyFollowsConsumer(), ActivityConsumer()):
            before = ConsumerState.objects.get(name=consumer.name).last_event_id
            head = _head()
            result = runner.run(consumer, batch=batch)
            assert (result.bulk is not None) == pace.far_behind(before, head)
            assert result.watermark == head
    caught_up = _rows()

    runner.rebuild(DailyFollowsConsumer(), bulk=False)
    runner.rebuild(ActivityConsumer(), bulk=False)
    assert caught_up == _rows()
