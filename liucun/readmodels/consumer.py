"""What a consumer is: a name, the kinds it reads, and how it folds a batch of events into its tables.

The runner (readmodels/runner.py) calls `prepare` (reads only) and then `apply` inside the transaction
that also moves the consumer's watermark, so a batch is either folded in and marked read, or neither.
`reset` empties the tables for a rebuild, which then replays every event from the first, or fills them
set-based (`rebuild_bulk`, ADR 21); a consumer is correct when either gives the same rows as the
incremental runs did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT

from liucun.events.models import Event
from liucun.rawsql import Sql


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    account_id: int
    openid: str
    kind: str
    wechat_time: datetime
    source: str
    # Only the payload fields the consumer asked for (Consumer.payload_fields), as stored text.
    fields: dict[str, Any]


class Consumer:
    name: ClassVar[str]
    # The kinds this consumer reads (None: every kind). The watermark still moves over all events.
    kinds: ClassVar[frozenset[str] | None] = None
    # A further condition on the events read (a Q on Event, e.g. on their source), applied by the
    # database like `kinds`: events it leaves out never reach prepare(). The watermark still moves over them.
    events_filter: ClassVar[Q | None] = None
    # Payload fields read with each event, extracted by the database rather than decoding whole payloads.
    payload_fields: ClassVar[tuple[str, ...]] = ()
    # Bump when the logic changes what rows the events produce: a changed fingerprint triggers a rebuild.
    version: ClassVar[int] = 1

    def fingerprint(self) -> str:
        return f"v{self.version}"

    def prepare(self, events: Sequence[EventRow]) -> Any:
        """Work out the writes a batch needs, reading only (the consumer's tables and the event store).

        Runs before the batch's write transaction, so on SQLite the callback's write lock is not held
        while it reads; nobody else writes the consumer's tables meanwhile (the runner holds its claim).
        """
        raise NotImplementedError

    def apply(self, plan: Any) -> None:
        """Make the writes `prepare` worked out, inside the transaction that moves the watermark."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    # A rebuild replays every event through prepare/apply, a few thousand events a second. A consumer
    # may instead fill its tables with set-based SQL (INSERT ... SELECT ... GROUP BY, window functions),
    # which a year of a million-fan account needs. The runner then calls, in order:
    #   prepare_bulk(last_id)  outside any write transaction (on SQLite: without the write lock that
    #                          callbacks wait for): the heavy reading, e.g. into TEMP tables;
    #   rebuild_bulk(last_id)  inside the one transaction that also empties the tables (reset) and
    #                          moves the watermark to last_id: fills the tables from every event with
    #                          id <= last_id (all of them visible or never to be) and returns True;
    #   finish_bulk()          after that transaction, committed or not: drop what prepare_bulk made.
    # Its rows must equal what replaying the same events gives (test it); incremental runs carry on
    # from last_id. A consumer that returns False from rebuild_bulk is replayed event by event.

    def prepare_bulk(self, last_id: int) -> None:
        return None

    def rebuild_bulk(self, last_id: int) -> bool:
        return False

    def finish_bulk(self) -> None:
        return None

    def supports_bulk(self) -> bool:
        return type(self).rebuild_bulk is not Consumer.rebuild_bulk


@dataclass(frozen=True)
class StagedCopy:
    """One statement of a set-based fill: staged rows into one of the consumer's tables."""

    table: str
    columns: str  # the table's columns, comma-separated
    select: str  # a SELECT giving the rows, in `columns` order and in the order they should go in
    # In a fill of one transaction, the table's plain indexes are made after the copy (bulksql).
    defer_indexes: bool = False

    def statement(self) -> str:
        return f"INSERT INTO {self.table} ({self.columns}) {self.select}"

    @classmethod
    def of(cls, table: str, columns: str, staged: str, *, order: str = "") -> StagedCopy:
        """The same columns from a staged table, in `order` (e.g. "account_id, openid" for per-fan rows,
        so that the table's unique index is filled by appending)."""
        ordered = f" ORDER BY {order}" if order else ""
        return cls(table, columns, f"SELECT {columns} FROM {staged}{ordered}")  # noqa: S608


def run_copies(copies: Sequence[StagedCopy]) -> None:
    """Every copy in one go, inside the caller's transaction."""
    from liucun.readmodels.bulksql import indexes_deferred

    with connection.cursor() as cursor:
        for copy in copies:
            if copy.defer_indexes:
                with indexes_deferred(copy.table):
                    cursor.execute(copy.statement())
            else:
                cursor.execute(copy.statement())


class StagedBulkConsumer(Consumer):
    """A consumer whose set-based rebuild stages rows outside the write transaction (`stage_bulk`), copies
    them into its tables (`copies`, or `copy_bulk` for a fill that is more than copies) and drops them
    after (`drop_bulk`). The runner calls prepare_bulk first, but a rebuild asked for another last_id (or
    none prepared) stages again inside, so the copy always matches the watermark it is committed with.

    A consumer that gives `copies` can be filled in chunks (runner: on SQLite, where one long write
    transaction would hold every callback back); one whose fill is more than copies is filled in one
    transaction."""

    _staged_upto: int | None = None  # the last_id the staged rows were made for

    def stage_bulk(self, last_id: int) -> None:
        raise NotImplementedError

    def copies(self) -> list[StagedCopy] | None:
        """The statements that move the staged rows into the tables, in order (None: see copy_bulk)."""
        return None

    def copy_bulk(self) -> None:
        copies = self.copies()
        if copies is None:
            raise NotImplementedError(f"{self.name}: give copies() or override copy_bulk()")
        run_copies(copies)

    def drop_bulk(self) -> None:
        raise NotImplementedError

    def prepare_bulk(self, last_id: int) -> None:
        self.stage_bulk(last_id)
        self._staged_upto = last_id

    def rebuild_bulk(self, last_id: int) -> bool:
        if self._staged_upto != last_id:
            self.prepare_bulk(last_id)
        self.copy_bulk()
        return True

    def finish_bulk(self) -> None:
        self.drop_bulk()
        self._staged_upto = None


def event_rows(
    events: QuerySet[Event],
    payload_fields: tuple[str, ...] = (),
    order: tuple[str, ...] = ("id",),
    limit: int | None = None,
) -> list[EventRow]:
    """The rows of `events` as EventRow, in id order unless told otherwise; the first `limit` of them."""
    extracted = {f"_f_{name}": KT(f"payload__{name}") for name in payload_fields}
    columns = ["id", "account_id", "openid", "kind", "wechat_time", "source", *extracted]
    selected = events.annotate(**extracted).order_by(*order).values_list(*columns)
    query = (selected[:limit] if limit is not None else selected).query
    # The ORM writes the SQL; rows are read without its per-value converters, which cost more than the
    # query on a rebuild of millions of events.
    statement, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [
            EventRow(
                id=row[0],
                account_id=row[1],
                openid=row[2],
                kind=row[3],
                wechat_time=_stored_time(row[4]),
                source=row[5],
                fields=dict(zip(payload_fields, row[6:], strict=True)),
            )
            for row in cursor.fetchall()
        ]


def _stored_time(value: Any) -> datetime:
    parsed = Sql.read_dt(value)
    if parsed is None:
        raise ValueError("an event without a WeChat time")
    return parsed
