"""Running consumers: claim one, read new events in id order in batches, commit each batch with its watermark.

A consumer is claimed with a conditional UPDATE (a lease, renewed every batch, and by a thread while a
set-based rebuild runs), so two workers never run it at once; and every batch locks the consumer's state
row and re-checks the claim before it writes, so even a worker that lost its lease while paused cannot
fold a batch in twice. On SQLite each batch holds the write lock (shared with the callback) for its
duration only, which the batch size keeps short while callbacks are coming in.

A consumer far behind (a history imported with --no-readmodels, a worker down for long) catches up the
quick way: rebuilt set-based from zero when it can be (see `pace.far_behind`), else replayed in large batches
while no callback waits for the write lock (see `pace.Pace`).
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import OperationalError, connection, transaction
from django.db.models import Max

from liucun.events.models import Event
from liucun.readmodels import chunked_fill, lifecycle_bulk
from liucun.readmodels.consumer import Consumer, StagedBulkConsumer, event_rows
from liucun.readmodels.freshness import REBUILDING
from liucun.readmodels.lease import LEASE, NotClaimed, claim, lease_renewed, release, worker_id
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.pace import Pace, callbacks_waiting, far_behind, has_backlog, head_id
from liucun.readmodels.registry import consumers
from liucun.readmodels.visibility import GAP_GRACE, fence_settled, reach, serial_ids, transaction_horizon
from liucun.sqlite_writelock import serialized_writes

log = logging.getLogger(__name__)

BATCH = 5000
# Event ids walked per batch at least (the batch's events, of the consumer's kinds, are at most `batch`).
WALK = 50_000
# How long a bulk rebuild on PostgreSQL waits for the inserts in flight before it replays instead.
BULK_LOCK_TIMEOUT = timedelta(seconds=10)


@dataclass
class RunResult:
    name: str
    batches: int = 0
    events: int = 0  # events the consumer handled (of its kinds)
    watermark: int = 0
    waiting_on_gap: bool = False
    rebuilt: bool = False
    slowest_batch_seconds: float = 0.0
    # The longest write transaction of a batch: on SQLite, how long the callback's write lock was held.
    longest_write_seconds: float = 0.0
    bulk: BulkFill | None = None  # what a set-based rebuild did before the run
    # The run found the consumer far behind: it rebuilt it set-based (`bulk`) or replayed in large batches.
    far_behind: bool = False


@dataclass(frozen=True)
class BulkFill:
    upto: int  # the watermark the tables were filled to
    seconds: float  # the whole fill, reading included
    write_seconds: float  # its write transactions, all of them
    # The longest one: on SQLite, how long a callback may have been held back (chunked_fill.py).
    longest_write_seconds: float
    chunks: int = 1  # write transactions (more than one: filled in chunks)


def run(
    consumer: Consumer,
    *,
    owner: str | None = None,
    batch: int = BATCH,
    max_batches: int | None = None,
    budget: timedelta | None = None,
    grace: timedelta = GAP_GRACE,
    now: datetime | None = None,
) -> RunResult:
    """Fold new events into the consumer until it is caught up, blocked on an unsettled gap, or out of
    batches/time. Far behind, it first rebuilds the consumer set-based when it can (`far_behind`); the
    budget does not cut that short. Raises NotClaimed when another worker runs it."""
    owner = owner or worker_id()
    clock_now = now or datetime.now(UTC)
    if not claim(consumer.name, owner, clock_now):
        raise NotClaimed(consumer.name)
    result = RunResult(consumer.name)
    deadline = time.monotonic() + budget.total_seconds() if budget else None
    try:
        result.rebuilt = _reset_if_stale(consumer, owner)
        head = head_id()
        watermark = ConsumerState.objects.values_list("last_event_id", flat=True).get(name=consumer.name)
        result.far_behind = has_backlog(watermark, head)
        # A set-based rebuild holds SQLite's write lock once for its whole copy (menu clicks at 200,000
        # fans x a year: 100 s): never while callbacks are coming in, which would miss WeChat's 5-second
        # deadline all that time; the replay's short writes let them through.
        if (
            not result.rebuilt
            and consumer.supports_bulk()
            and far_behind(watermark, head)
            and not callbacks_waiting()
        ):
            result.bulk = _catch_up_set_based(consumer, owner)
            result.rebuilt = result.bulk is not None
        result.watermark = result.bulk.upto if result.bulk else watermark
        sizes = Pace(batch, far_behind=result.far_behind)
        while max_batches is None or result.batches < max_batches:
            started = time.perf_counter()
            step = _one_batch(consumer, owner, sizes.size(), grace, now or datetime.now(UTC))
            sizes.wrote(step.write_seconds)
            result.slowest_batch_seconds = max(result.slowest_batch_seconds, time.perf_counter() - started)
            result.longest_write_seconds = max(result.longest_write_seconds, step.write_seconds)
            result.batches += 1
            result.events += step.events
            result.watermark = step.watermark
            result.waiting_on_gap = step.blocked
            if step.blocked or not step.more:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
    finally:
        release(consumer.name, owner)
    return result


def rebuild(
    consumer: Consumer,
    *,
    owner: str | None = None,
    batch: int = BATCH,
    bulk: bool = True,
    budget: timedelta | None = None,
    chunked: bool = True,
) -> RunResult:
    """Rebuild the consumer's tables from zero, then catch up. Set-based (Consumer.rebuild_bulk) when the
    consumer supports it and `bulk`, else by replaying every event from the first. Resumable: a replay
    that stops half-way carries on from the watermark it reached; a bulk rebuild commits all or nothing."""
    owner = owner or worker_id()
    if not claim(consumer.name, owner, datetime.now(UTC)):
        raise NotClaimed(consumer.name)
    try:
        filled = _rebuild_from_zero(consumer, owner, bulk=bulk, chunked=chunked)
    finally:
        release(consumer.name, owner)
    result = run(consumer, owner=owner, batch=batch, budget=budget)
    result.rebuilt = True
    result.bulk = filled
    return result


def together() -> AbstractContextManager[None]:
    """Around several consumers' runs or rebuilds: what their set-based rebuilds stage from the event store
    (the lifecycle events: daily follows, following, follow-stays) is scanned once and shared while the
    block lasts, as long as they fill to the same watermark (no event came in between); else each stages
    its own, as alone."""
    return lifecycle_bulk.shared()


def run_all(*, budget: timedelta | None = None) -> list[RunResult]:
    results = []
    with together():
        for consumer in consumers():
            try:
                results.append(run(consumer, budget=budget))
            except NotClaimed:
                log.info("read model %s is being run by another worker", consumer.name)
    return results


def _reset(consumer: Consumer, owner: str) -> None:
    with serialized_writes(), transaction.atomic():
        state = ConsumerState.objects.select_for_update().get(name=consumer.name)
        if state.owner != owner:
            raise NotClaimed(consumer.name)
        consumer.reset()
        _zero(state, consumer)
        state.save()


def _zero(state: ConsumerState, consumer: Consumer) -> None:
    state.last_event_id = state.events_seen = state.settled_upto = 0
    state.gap_fence_id = state.gap_fence_xid = state.gap_seen_at = None
    state.fingerprint = consumer.fingerprint()
    state.rebuilt_at = datetime.now(UTC)


def _reset_if_stale(consumer: Consumer, owner: str) -> bool:
    state = ConsumerState.objects.get(name=consumer.name)
    if state.fingerprint == consumer.fingerprint():
        return False
    if state.fingerprint == "" and state.last_event_id == 0:
        ConsumerState.objects.filter(name=consumer.name).update(fingerprint=consumer.fingerprint())
        return False
    if state.fingerprint.startswith(REBUILDING):
        log.warning("read model %s: a rebuild stopped half-way; rebuilding again", consumer.name)
    else:
        log.warning(
            "read model %s was built as %s and is now %s: rebuilding from the first event",
            consumer.name,
            state.fingerprint,
            consumer.fingerprint(),
        )
    _rebuild_from_zero(consumer, owner, bulk=True)
    return True


def _rebuild_from_zero(
    consumer: Consumer, owner: str, *, bulk: bool, chunked: bool = True
) -> BulkFill | None:
    """Empty the consumer's tables and fill them set-based up to a safe watermark, or leave them empty at
    watermark zero for a replay. Returns what the bulk fill did (None: it did not run)."""
    if not (bulk and consumer.supports_bulk()):
        _reset(consumer, owner)
        return None
    upto = bulk_watermark()
    if upto is None:
        log.warning("read model %s: no safe watermark for a bulk rebuild; replaying instead", consumer.name)
        _reset(consumer, owner)
        return None
    filled = _fill(consumer, owner, upto, chunked=chunked)
    if filled is None:
        _reset(consumer, owner)  # the consumer declined: replay from zero
    return filled


def _catch_up_set_based(consumer: Consumer, owner: str) -> BulkFill | None:
    """Rebuild a consumer that is far behind set-based. Without a safe watermark (PostgreSQL: inserts in
    flight past BULK_LOCK_TIMEOUT) or when the consumer declines, its tables and watermark stay as they
    were and the run replays from there."""
    upto = bulk_watermark()
    if upto is None:
        log.warning("read model %s is far behind but no safe watermark was found; replaying", consumer.name)
        return None
    filled = _fill(consumer, owner, upto)
    if filled is not None:
        log.info(
            "read model %s was far behind: rebuilt set-based up to event %d in %.1f s",
            consumer.name,
            upto,
            filled.seconds,
        )
    return filled


def _fill(consumer: Consumer, owner: str, upto: int, *, chunked: bool = True) -> BulkFill | None:
    """Replace the consumer's tables by a set-based fill up to `upto` (every id up to it visible or never
    to be) and move its watermark there: in one transaction, or on SQLite in chunks (chunked_fill.py);
    None, and nothing changed, when the consumer declines (rebuild_bulk returned False)."""

    def finish(state: ConsumerState) -> None:
        _zero(state, consumer)
        state.last_event_id = state.settled_upto = upto
        state.head_event_id = max(state.head_event_id, upto)

    began = time.perf_counter()
    try:
        with lease_renewed(consumer.name, owner):
            # The heavy reading happens here, outside the write transaction (see Consumer.prepare_bulk).
            consumer.prepare_bulk(upto)
            if chunked and chunked_fill.applies(consumer):
                assert isinstance(consumer, StagedBulkConsumer)
                w = chunked_fill.fill(consumer, owner, finish)
                return BulkFill(upto, time.perf_counter() - began, w.seconds, w.longest, w.chunks)
            writing = time.perf_counter()
            with serialized_writes(), transaction.atomic():
                state = ConsumerState.objects.select_for_update().get(name=consumer.name)
                if state.owner != owner:
                    raise NotClaimed(consumer.name)
                # Emptied and refilled in one transaction: readers see the old rows until the new ones
                # commit.
                consumer.reset()
                filled = consumer.rebuild_bulk(upto)
                if not filled:
                    transaction.set_rollback(True)
                else:
                    finish(state)
                    state.save()
            done = time.perf_counter()
    finally:
        consumer.finish_bulk()
    if not filled:
        return None
    return BulkFill(upto, done - began, done - writing, done - writing)


def bulk_watermark() -> int | None:
    """The highest event id below which every id is visible now or never will be (None: not found).

    SQLite: the highest visible id (serial ids, visibility.py). PostgreSQL: an event's id is taken while
    its INSERT holds a ROW EXCLUSIVE lock on the table until its transaction ends, so once a SHARE lock
    is granted no insert is in flight and the highest id is final below. The SHARE lock waits for the
    inserts running (callbacks take milliseconds) and holds new ones back only while one MAX(id) is read.
    """
    if serial_ids():
        return Event.objects.aggregate(head=Max("id"))["head"] or 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(BULK_LOCK_TIMEOUT.total_seconds() * 1000)}ms'")
            cursor.execute("LOCK TABLE events_event IN SHARE MODE")
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM events_event")
            return int(cursor.fetchone()[0])
    except OperationalError:
        return None


@dataclass(frozen=True)
class _Step:
    events: int
    watermark: int
    blocked: bool
    more: bool
    write_seconds: float


def _one_batch(consumer: Consumer, owner: str, batch: int, grace: timedelta, now: datetime) -> _Step:
    # Everything is read first, outside the write transaction: on SQLite the write lock (which the
    # callback waits for) is then held only while the batch's rows are written.
    seen = ConsumerState.objects.get(name=consumer.name)
    if seen.owner != owner:
        raise NotClaimed(consumer.name)
    serial = serial_ids()
    if not serial and seen.gap_fence_id is not None:
        _settle_gap(seen, grace, now)
    watermark = seen.last_event_id
    # Ids are walked further than one batch of the consumer's events: most consumers read a few kinds
    # (2 % of events are follows and unfollows), and a walk of one batch of ids at a time made a replay
    # of a year at 1,000,000 fans (50,000,000 ids) take ten thousand write transactions.
    stride = max(batch, WALK)
    ids = list(Event.objects.filter(id__gt=watermark).order_by("id").values_list("id", flat=True)[:stride])
    step = reach(ids, watermark, ids[-1] if serial and ids else seen.settled_upto)
    if step.blocked and seen.gap_fence_id is None:
        # The fence is the highest visible id, not just this batch's, so that one wait settles every gap
        # of a backlog. The snapshot is taken after reading it: whoever holds a missing id below it took
        # that id earlier, so their transaction id is below the first one not yet assigned (visibility.py).
        head = Event.objects.aggregate(head=Max("id"))["head"]
        with connection.cursor() as cursor:
            _oldest, next_xid = transaction_horizon(cursor)
        seen.gap_fence_id, seen.gap_fence_xid, seen.gap_seen_at = head, next_xid, now
    handled, plan, upto = 0, None, step.upto
    if step.upto > watermark:
        events = Event.objects.filter(id__gt=watermark, id__lte=step.upto)
        if consumer.kinds is not None:
            events = events.filter(kind__in=consumer.kinds)
        if consumer.events_filter is not None:
            events = events.filter(consumer.events_filter)
        rows = event_rows(events, consumer.payload_fields, limit=batch)
        if len(rows) == batch:
            upto = rows[-1].id  # a full batch: the rest of the walked ids wait for the next one
        plan = consumer.prepare(rows)
        handled = len(rows)
    writing = time.perf_counter()
    with serialized_writes(), transaction.atomic():
        state = ConsumerState.objects.select_for_update().get(name=consumer.name)
        if state.owner != owner or state.last_event_id != watermark:
            raise NotClaimed(consumer.name)
        if plan is not None:
            consumer.apply(plan)
        state.last_event_id = upto
        state.events_seen += handled
        state.settled_upto = seen.settled_upto
        state.gap_fence_id, state.gap_fence_xid, state.gap_seen_at = (
            seen.gap_fence_id,
            seen.gap_fence_xid,
            seen.gap_seen_at,
        )
        state.head_event_id = max(state.head_event_id, ids[-1] if ids else watermark)
        state.last_run_at = now
        state.lease_until = now + LEASE
        state.save()
    more = len(ids) == stride or upto < step.upto
    return _Step(handled, upto, step.blocked and upto == step.upto, more, time.perf_counter() - writing)


def _settle_gap(state: ConsumerState, grace: timedelta, now: datetime) -> None:
    assert (
        state.gap_fence_id is not None and state.gap_fence_xid is not None and state.gap_seen_at is not None
    )
    with connection.cursor() as cursor:
        oldest, _next = transaction_horizon(cursor)
    if fence_settled(
        fence_xid=state.gap_fence_xid,
        seen_at=state.gap_seen_at,
        oldest_running_xid=oldest,
        now=now,
        grace=grace,
    ):
        state.settled_upto = max(state.settled_upto, state.gap_fence_id)
        state.gap_fence_id = state.gap_fence_xid = state.gap_seen_at = None


def status() -> list[dict[str, object]]:
    head = head_id()
    states = {s.name: s for s in ConsumerState.objects.all()}
    rows: list[dict[str, object]] = []
    for consumer in consumers():
        state = states.get(consumer.name) or ConsumerState(name=consumer.name)
        rows.append(
            {
                "name": consumer.name,
                "watermark": state.last_event_id,
                "head": head,
                "behind": max(head - state.last_event_id, 0),
                "events_seen": state.events_seen,
                "last_run_at": state.last_run_at,
                "rebuilt_at": state.rebuilt_at,
                "running": bool(state.owner)
                and state.lease_until is not None
                and state.lease_until > datetime.now(UTC),
                "waiting_on_gap_since": state.gap_seen_at,
                "needs_rebuild": bool(state.fingerprint) and state.fingerprint != consumer.fingerprint(),
                "catch_up": _catch_up_way(consumer, state.last_event_id, head),
            }
        )
    return rows


def _catch_up_way(consumer: Consumer, watermark: int, head: int) -> str:
    """How the next run catches the consumer up: "set-based" (rebuilt from zero), "replay" in large
    batches (far behind without a set-based rebuild, or not far enough for one), "" (not far behind)."""
    if consumer.supports_bulk() and far_behind(watermark, head):
        return "set-based"
    return "replay" if has_backlog(watermark, head) else ""
