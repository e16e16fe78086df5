"""A set-based fill on SQLite in many short write transactions instead of one long one.

SQLite has one writer at a time, and a callback that waits for the write lock longer than
LIUCUN_CALLBACK_COMMIT_TIMEOUT (3 s) is answered 503; WeChat retries twice more within about 15 s and
then drops the message. Copying a read model's staged rows in one transaction held the lock for 34 s at
200,000 fans (menu clicks: 5 million fan rows) and would for minutes at 1,000,000. So on SQLite the
runner fills a consumer that gives its copies (StagedBulkConsumer.copies) like this:

  1. one short transaction empties its tables and marks its state "being rebuilt" (freshness.REBUILDING
     before its fingerprint): reports built on it say their numbers are incomplete; if the process
     stops before step 3, the fingerprint differs from the consumer's and the next run rebuilds again;
  2. each copy's rows are numbered in a TEMP table (outside the write lock), then inserted a chunk at a
     time, each chunk its own transaction sized to take about CHUNK_WRITE_SECONDS;
  3. one short transaction moves the watermark to the fill's last id and restores the fingerprint.

Readers see the tables fill up during step 2 instead of the old rows until one commit (PostgreSQL keeps
the single transaction: it has no global write lock). The lease stays claimed throughout (every chunk
checks it), so no incremental run writes in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from liucun.readmodels.consumer import StagedBulkConsumer, StagedCopy
from liucun.readmodels.freshness import rebuilding_marker
from liucun.readmodels.lease import NotClaimed
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.pace import next_batch_size
from liucun.sqlite_writelock import serialized_writes

CHUNK_WRITE_SECONDS = 0.25
FIRST_CHUNK = 5_000
MAX_CHUNK = 200_000
MIN_CHUNK = 500
_NUMBERED = "liucun_fill_chunks"


@dataclass
class ChunkedWrites:
    seconds: float = 0.0  # every write transaction of the fill
    longest: float = 0.0  # the longest one: what a callback may have waited
    chunks: int = 0

    def timed(self, started: float) -> float:
        took = time.perf_counter() - started
        self.seconds += took
        self.longest = max(self.longest, took)
        self.chunks += 1
        return took


def applies(consumer: object) -> bool:
    """SQLite, and a consumer whose fill is its copies (one that overrides rebuild_bulk may decline, or do
    more than copy: it is filled in one transaction)."""
    return (
        connection.vendor == "sqlite"
        and isinstance(consumer, StagedBulkConsumer)
        and type(consumer).rebuild_bulk is StagedBulkConsumer.rebuild_bulk
        and consumer.copies() is not None
    )


def fill(
    consumer: StagedBulkConsumer,
    owner: str,
    finish: Callable[[ConsumerState], None],
) -> ChunkedWrites:
    """Steps 1 to 3 above; the staged rows are ready (prepare_bulk ran). `finish` sets the state's
    watermark and fingerprint in the last transaction."""
    writes = ChunkedWrites()
    started = time.perf_counter()
    with serialized_writes(), transaction.atomic():
        state = _owned(consumer.name, owner)
        consumer.reset()
        state.fingerprint = rebuilding_marker(consumer.fingerprint())
        state.save(update_fields=["fingerprint"])
    writes.timed(started)
    for copy in consumer.copies() or []:
        _copy_in_chunks(copy, consumer.name, owner, writes)
    started = time.perf_counter()
    with serialized_writes(), transaction.atomic():
        state = _owned(consumer.name, owner)
        finish(state)
        state.save()
    writes.timed(started)
    return writes


def _copy_in_chunks(copy: StagedCopy, name: str, owner: str, writes: ChunkedWrites) -> None:
    with connection.cursor() as cursor:
        # Rowids 1..n in the copy's order: a chunk is a range of them, found without a sort or an OFFSET.
        cursor.execute(f"DROP TABLE IF EXISTS temp.{_NUMBERED}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_NUMBERED} AS {copy.select}")
        cursor.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM temp.{_NUMBERED}")  # noqa: S608
        rows = int(cursor.fetchone()[0])
    try:
        done, size = 0, FIRST_CHUNK
        while done < rows:
            started = time.perf_counter()
            with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
                _owned(name, owner, lock=False)
                cursor.execute(
                    f"INSERT INTO {copy.table} ({copy.columns}) SELECT * FROM temp.{_NUMBERED}"  # noqa: S608
                    " WHERE rowid > %s AND rowid <= %s",
                    [done, done + size],
                )
            done += size
            size = next_batch_size(
                size, writes.timed(started), ceiling=MAX_CHUNK, target=CHUNK_WRITE_SECONDS, floor=MIN_CHUNK
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{_NUMBERED}")


def _owned(name: str, owner: str, *, lock: bool = True) -> ConsumerState:
    states = ConsumerState.objects.select_for_update() if lock else ConsumerState.objects
    state = states.get(name=name)
    if state.owner != owner:
        raise NotClaimed(name)
    return state
