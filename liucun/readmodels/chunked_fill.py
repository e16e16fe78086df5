"""A set-based fill on SQLite in many short write transactions instead of one long one.

SQLite has one writer at a time, and a callback that waits for the write lock longer than
LIUCUN_CALLBACK_COMMIT_TIMEOUT (3 s) is answered 503; WeChat retries twice more within about 15 s and
then drops the message. Copying a read model's staged rows in one transaction held the lock for 34 s at
200,000 fans (menu clicks: 5 million fan rows) and would for minutes at 1,000,000. So on SQLite the
runner fills a consumer that gives its copies (StagedBulkConsumer.copies) like this:

  1. each copy's rows are numbered in a TEMP table, outside the write lock (rowids 1..n in its order);
  2. when those rows and the rows in the consumer's tables now are at most ONE_TRANSACTION_ROWS, one
     transaction empties and refills the tables and moves the watermark, as on PostgreSQL (a second at
     most; readers see the old rows until it commits). Else:
  3. one short transaction marks the state "being rebuilt" (freshness.REBUILDING before the fingerprint):
     reports built on it say their numbers are incomplete; if the process stops before the end, the
     fingerprint differs from the consumer's and the next run rebuilds again;
  4. the tables are emptied a chunk of rows at a time (a DELETE without WHERE is no quicker here: the
     foreign key to the account makes SQLite delete row by row, 72 s for 5 million menu-click rows in
     one transaction), then the numbered rows inserted a chunk at a time; each chunk its own transaction
     sized to take about CHUNK_WRITE_SECONDS;
  5. one short transaction moves the watermark to the fill's last id and restores the fingerprint.

Chunks are slower in all than one transaction (rows go into indexes that exist, at random places for all
but the copy's order) but no callback waits long. The lease stays claimed throughout (every chunk checks
it), so no incremental run writes in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, transaction

from liucun.readmodels.consumer import StagedBulkConsumer, StagedCopy, run_copies
from liucun.readmodels.freshness import rebuilding_marker
from liucun.readmodels.lease import NotClaimed
from liucun.readmodels.models import ConsumerState
from liucun.readmodels.pace import next_batch_size
from liucun.sqlite_writelock import serialized_writes

CHUNK_WRITE_SECONDS = 0.25
FIRST_CHUNK = 5_000
MAX_CHUNK = 200_000
MIN_CHUNK = 500
# Rows deleted and inserted that one transaction handles in about a second (SQLite, 2 cores, 2026-12-02:
# 40,000 to 100,000 rows a second into indexed tables, 41,000 deleted).
ONE_TRANSACTION_ROWS = 50_000
_NUMBERED = "liucun_fill_{}"


@dataclass(frozen=True)
class _Numbered:
    copy: StagedCopy
    table: str  # the TEMP table its rows are numbered in
    rows: int


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
    """Steps 1 to 5 above; the staged rows are ready (prepare_bulk ran). `finish` sets the state's
    watermark and fingerprint in the last transaction."""
    copies = consumer.copies() or []
    writes = ChunkedWrites()
    numbered: list[_Numbered] = []
    try:
        for n, copy in enumerate(copies):
            table = _NUMBERED.format(n)
            numbered.append(_Numbered(copy, table, _number(copy, table)))
        rows = sum(n.rows for n in numbered) + sum(_rows_in(c.table) for c in copies)
        if rows <= ONE_TRANSACTION_ROWS:
            started = time.perf_counter()
            with serialized_writes(), transaction.atomic():
                state = _owned(consumer.name, owner)
                consumer.reset()
                run_copies([replace(n.copy, select=_all_of(n.table)) for n in numbered])
                finish(state)
                state.save()
            writes.timed(started)
            return writes
        started = time.perf_counter()
        with serialized_writes(), transaction.atomic():
            state = _owned(consumer.name, owner)
            state.fingerprint = rebuilding_marker(consumer.fingerprint())
            state.save(update_fields=["fingerprint"])
        writes.timed(started)
        for copy in copies:
            _empty_in_chunks(copy.table, consumer.name, owner, writes)
        started = time.perf_counter()
        with serialized_writes(), transaction.atomic():
            _owned(consumer.name, owner)
            consumer.reset()  # the tables are empty now: whatever else reset does, quickly
        writes.timed(started)
        for each in numbered:
            _copy_in_chunks(each, consumer.name, owner, writes)
            _drop(each.table)
        started = time.perf_counter()
        with serialized_writes(), transaction.atomic():
            state = _owned(consumer.name, owner)
            finish(state)
            state.save()
        writes.timed(started)
        return writes
    finally:
        for each in numbered:
            _drop(each.table)


def _number(copy: StagedCopy, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {copy.select}")
        cursor.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM temp.{table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _all_of(table: str) -> str:
    return f"SELECT * FROM temp.{table} ORDER BY rowid"  # noqa: S608


def _rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _drop(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _in_chunks(step: Callable[[Any, int], bool], name: str, owner: str, writes: ChunkedWrites) -> None:
    """step(cursor, size) writes one chunk of `size` rows in a transaction of its own; False: done."""
    size, more = FIRST_CHUNK, True
    while more:
        started = time.perf_counter()
        with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
            _owned(name, owner, lock=False)
            more = step(cursor, size)
        size = next_batch_size(
            size, writes.timed(started), ceiling=MAX_CHUNK, target=CHUNK_WRITE_SECONDS, floor=MIN_CHUNK
        )


def _empty_in_chunks(table: str, name: str, owner: str, writes: ChunkedWrites) -> None:
    def step(cursor: Any, size: int) -> bool:
        cursor.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY rowid LIMIT %s)",  # noqa: S608
            [size],
        )
        return bool(cursor.rowcount == size)

    _in_chunks(step, name, owner, writes)


def _copy_in_chunks(numbered: _Numbered, name: str, owner: str, writes: ChunkedWrites) -> None:
    copy, done = numbered.copy, 0

    def step(cursor: Any, size: int) -> bool:
        nonlocal done
        cursor.execute(
            f"INSERT INTO {copy.table} ({copy.columns}) SELECT * FROM temp.{numbered.table}"  # noqa: S608
            " WHERE rowid > %s AND rowid <= %s",
            [done, done + size],
        )
        done += size
        return done < numbered.rows

    if numbered.rows:
        _in_chunks(step, name, owner, writes)


def _owned(name: str, owner: str, *, lock: bool = True) -> ConsumerState:
    states = ConsumerState.objects.select_for_update() if lock else ConsumerState.objects
    state = states.get(name=name)
    if state.owner != owner:
        raise NotClaimed(name)
    return state
