"""The consumer runner: claims, batches with their watermark, restarts, the command and the worker's job."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from liucun.events.kinds import FOLLOW, UNFOLLOW
from liucun.events.models import Event
from liucun.readmodels import pace, periodic, runner
from liucun.readmodels.daily_follows import DailyFollowsConsumer
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.registry import consumers
from liucun.readmodels.tasks import run_read_models
from liucun.readmodels.tests.support import add_event, table
from liucun.runner.scheduler import collect_schedule
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 2, tzinfo=UTC)


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("readmodels", *args, stdout=out)
    return out.getvalue()


def test_two_workers_never_hold_one_consumer() -> None:
    now = datetime.now(UTC)
    assert runner.claim("daily-follows", "worker-1", now) is True
    assert runner.claim("daily-follows", "worker-2", now) is False
    with pytest.raises(runner.NotClaimed):
        runner.run(DailyFollowsConsumer(), owner="worker-2")
    # A worker that died holds the consumer until its lease runs out.
    assert runner.claim("daily-follows", "worker-2", now + runner.LEASE + timedelta(seconds=1)) is True


def test_a_worker_that_lost_its_claim_writes_nothing() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, T0)
    consumer = DailyFollowsConsumer()
    assert runner.claim(consumer.name, "worker-1", datetime.now(UTC))
    ConsumerState.objects.filter(name=consumer.name).update(owner="worker-2")

    with pytest.raises(runner.NotClaimed):
        runner._one_batch(consumer, "worker-1", 100, timedelta(0), datetime.now(UTC))

    assert ConsumerState.objects.get(name=consumer.name).last_event_id == 0
    assert table() == []


def test_a_claim_lost_while_a_batch_was_being_prepared_writes_nothing() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, T0)

    class Overtaken(DailyFollowsConsumer):
        def prepare(self, events):  # type: ignore[no-untyped-def]
            plan = super().prepare(events)
            # Meanwhile this worker's lease ran out and another worker claimed the consumer.
            ConsumerState.objects.filter(name=self.name).update(owner="worker-2")
            return plan

    with pytest.raises(runner.NotClaimed):
        runner.run(Overtaken(), owner="worker-1")

    assert ConsumerState.objects.get(name="daily-follows").last_event_id == 0
    assert table() == []


def test_batches_commit_with_their_watermark_and_a_restart_carries_on() -> None:
    account = make_account()
    events = [add_event(account, f"o{i}", FOLLOW, T0 + timedelta(minutes=i), "hall") for i in range(5)]
    events.append(add_event(account, "o0", UNFOLLOW, T0 + timedelta(hours=1)))
    consumer = DailyFollowsConsumer()

    first = runner.run(consumer, batch=2, max_batches=2)

    assert (first.batches, first.events, first.watermark) == (2, 4, events[3].pk)
    assert table(account) == [(account.pk, date(2026, 6, 1), "hall", 4, 0, 0, 0)]
    state = ConsumerState.objects.get(name=consumer.name)
    # The batches stop at 2 events each, but the ids are walked ahead: the head is the last event's.
    assert (state.owner, state.events_seen, state.head_event_id) == ("", 4, events[5].pk)

    second = runner.run(consumer, batch=2)

    # The second batch reaches the last id walked: nothing more to look for.
    assert (second.batches, second.events, second.watermark) == (1, 2, events[5].pk)
    assert table(account) == [(account.pk, date(2026, 6, 1), "hall", 5, 0, 1, 0)]
    # Nothing new: a run reads nothing and changes nothing.
    assert runner.run(consumer).events == 0
    assert table(account) == [(account.pk, date(2026, 6, 1), "hall", 5, 0, 1, 0)]


def test_the_command_shows_runs_and_rebuilds() -> None:
    account = make_account()
    add_event(account, "oA", FOLLOW, T0)
    last = add_event(account, "oA", UNFOLLOW, T0 + timedelta(hours=1))

    assert _command("status", "daily-follows") == (
        f"daily-follows: at event 0 of {last.pk} ({last.pk} behind), 0 events handled, "
        "last run never, rebuilt never\n"
    )
    # One event a batch; the second reaches the last id walked, so no third batch looks for more.
    ran = _command("run", "daily-follows", "--batch", "1")
    assert ran == f"daily-follows: 2 events in 2 batches, now at event {last.pk}\n"
    assert _command("rebuild", "daily-follows", "--replay").startswith(
        f"daily-follows: 2 events in 1 batches, now at event {last.pk} (rebuilt)"
    )
    rebuilt = _command("rebuild", "daily-follows")
    assert rebuilt.startswith(f"daily-follows: filled set-based up to event {last.pk} in ")
    assert rebuilt.endswith(f"then 0 events in 1 batches, now at event {last.pk} (rebuilt)\n")
    status = _command("status", "daily-follows")
    # Events handled counts those folded in one by one: a set-based fill reads them in SQL, uncounted.
    assert status.startswith(f"daily-follows: at event {last.pk} of {last.pk} (0 behind), 0 events handled")
    assert "rebuilt never" not in status

    with pytest.raises(CommandError, match="no read model named 'nope'"):
        _command("run", "nope")
    runner.claim("daily-follows", "someone-else", datetime.now(UTC))
    with pytest.raises(CommandError, match="being run by another worker"):
        _command("run")


def test_the_worker_job_and_its_schedule() -> None:
    account = make_account()
    follow = add_event(account, "oA", FOLLOW, T0, "hall")

    assert "read-models" in [p.name for p in collect_schedule()]
    assert periodic._enqueue_run() == 1
    assert DBTaskResult.objects.filter(task_path__endswith="run_read_models").count() == 1
    # Each consumer that reads follows handles the one event, unless its filter leaves it out.
    reading = [c for c in consumers() if c.kinds is None or FOLLOW in c.kinds]
    taking = [
        c
        for c in reading
        if c.events_filter is None or Event.objects.filter(c.events_filter, pk=follow.pk).exists()
    ]
    assert run_read_models.call() == len(taking)
    assert table(account) == [(account.pk, date(2026, 6, 1), "hall", 1, 0, 0, 0)]

    # While a run waits in the queue, another would only queue up behind it.
    assert periodic._enqueue_run() == 0
    DBTaskResult.objects.filter(task_path__endswith="run_read_models").update(
        status=TaskResultStatus.SUCCESSFUL
    )
    # While a job holds every consumer, another would find them all claimed: none is queued.
    for consumer in consumers():
        runner.claim(consumer.name, "busy-worker", datetime.now(UTC))
    assert periodic._enqueue_run() == 0
    assert DBTaskResult.objects.filter(task_path__endswith="run_read_models").count() == 1


def test_a_slow_write_shrinks_the_next_batch_and_a_quick_one_grows_it_back() -> None:
    assert pace.next_batch_size(5000, 0.9, ceiling=5000) == 2500
    assert pace.next_batch_size(600, 0.9, ceiling=5000) == 500
    assert pace.next_batch_size(500, 0.9, ceiling=5000) == 500
    assert pace.next_batch_size(500, 0.1, ceiling=5000) == 500
    assert pace.next_batch_size(500, 0.01, ceiling=5000) == 1000
    assert pace.next_batch_size(4000, 0.01, ceiling=5000) == 5000
    assert pace.next_batch_size(2, 0.01, ceiling=2) == 2
