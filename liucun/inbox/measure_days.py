"""The per-day digest of the inbox's measures (MeasureDay): each day's service and wall seconds, sorted,
with the conversation of each value.

Why it exists: the customer-service report ranks a year of first responses (a busy inbox answers 1,000
questions a day) into nearest-rank percentiles per day, week or month. Sorting 365,000 measures on every
view took both databases most of a second or more (bench/service); reading 365 sorted arrays and merging
them takes milliseconds. A day is the site's China day (LIUCUN_TIME_ZONE) of the instant a measure
counts on: when the fan asked for a first response, when it happened for a resolution.

Each value comes with its conversation's id (0: a measure without one), so a report of one channel keeps
the values of that channel's conversations (activity.service_channels says which), still sorted. Equal
values are ordered by conversation id: the bytes depend only on the measures, not on the order they came.

Every Measure saved is added here in its own transaction (Measure.save, under the day's row lock), so the
digest equals the measures at every commit; its conversation gets a MeasureChannel row there too. A digest
made in another time zone than the site's is never read as it is (days_between says so) and is rebuilt by
the first measure written after the change.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from liucun.inbox.models import Measure, MeasureChannel, MeasureDay
from liucun.rawsql import Sql

if TYPE_CHECKING:
    # kind, started_at, ended_at, service seconds, wall seconds, conversation id (None: no conversation)
    MeasureRow = tuple[str, datetime, datetime, float, float, int | None]
    # kind, day, count, service, wall, service_conversations, wall_conversations
    DigestRow = tuple[str, date, int, bytes, bytes, bytes, bytes]

ARRAYS = ("service", "wall", "service_conversations", "wall_conversations")
NO_CONVERSATION = 0  # the id stored for a measure whose conversation is NULL (ids start at 1)


def counted_at(kind: str, started_at: datetime, ended_at: datetime) -> datetime:
    """The instant a measure counts on: the question for a first response, the resolution itself."""
    return started_at if kind == Measure.Kind.FIRST_RESPONSE else ended_at


def _packed(typecode: str, values: Iterable[Any]) -> bytes:
    # Little-endian: the same bytes whatever machine wrote them.
    packed = array(typecode, values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _unpacked(typecode: str, blob: bytes | memoryview) -> array[Any]:
    values = array(typecode)
    values.frombytes(bytes(blob))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def pack(values: Iterable[float]) -> bytes:
    """Float64, little-endian."""
    return _packed("d", values)


def unpack(blob: bytes | memoryview) -> array[float]:
    return _unpacked("d", blob)


def pack_ids(values: Iterable[int]) -> bytes:
    """Int64, little-endian, as pack does floats."""
    return _packed("q", values)


def unpack_ids(blob: bytes | memoryview) -> array[int]:
    return _unpacked("q", blob)


def _sorted_pairs(pairs: list[tuple[float, int]]) -> tuple[bytes, bytes]:
    pairs.sort()
    return pack(v for v, _ in pairs), pack_ids(c for _, c in pairs)


def digests(rows: Iterable[MeasureRow], zone: ZoneInfo) -> Iterator[DigestRow]:
    """(kind, day, count, service, wall, service_conversations, wall_conversations) for measures given as
    MeasureRow: what rebuild writes."""
    days: dict[tuple[str, date], tuple[list[tuple[float, int]], list[tuple[float, int]]]] = {}
    for kind, started_at, ended_at, service_seconds, wall_seconds, conversation_id in rows:
        day = counted_at(kind, started_at, ended_at).astimezone(zone).date()
        service, wall = days.setdefault((kind, day), ([], []))
        owner = conversation_id or NO_CONVERSATION
        service.append((service_seconds, owner))
        wall.append((wall_seconds, owner))
    for (kind, day), (service, wall) in sorted(days.items()):
        service_values, service_owners = _sorted_pairs(service)
        wall_values, wall_owners = _sorted_pairs(wall)
        yield kind, day, len(service), service_values, wall_values, service_owners, wall_owners


def rebuild(account_id: int) -> int:
    """Replace the account's digest by one made from its measures (after bulk inserts, or a changed
    time zone); returns the number of measures read."""
    zone = settings.TIME_ZONE
    rows = Measure.objects.filter(account_id=account_id).values_list(
        "kind", "started_at", "ended_at", "service_seconds", "wall_seconds", "conversation_id"
    )
    read = 0

    def counted(source: Iterable[MeasureRow]) -> Iterator[MeasureRow]:
        nonlocal read
        for row in source:
            read += 1
            yield row

    with transaction.atomic():
        made = [
            MeasureDay(
                account_id=account_id,
                kind=kind,
                day=day,
                zone=zone,
                count=n,
                service=service,
                wall=wall,
                service_conversations=service_owners,
                wall_conversations=wall_owners,
            )
            for kind, day, n, service, wall, service_owners, wall_owners in digests(
                counted(rows.iterator(chunk_size=20_000)), ZoneInfo(zone)
            )
        ]
        MeasureDay.objects.filter(account_id=account_id).delete()
        MeasureDay.objects.bulk_create(made, batch_size=500)
        _add_channel_rows(account_id)
    return read


def _add_channel_rows(account_id: int) -> None:
    """A MeasureChannel row for every conversation of the account with a measure (bulk inserts skip
    Measure.save); a new one's channel is looked up later."""
    sql = Sql(connection)
    cursor = sql.cursor()
    try:
        sql.execute(
            cursor,
            "INSERT INTO inbox_measurechannel (conversation_id, account_id, channel) "
            "SELECT DISTINCT conversation_id, account_id, NULL FROM inbox_measure "
            "WHERE account_id = %s AND conversation_id IS NOT NULL "
            "ON CONFLICT (conversation_id) DO NOTHING",
            [account_id],
        )
    finally:
        cursor.close()


def add(measure: Measure) -> None:
    """Add a newly saved measure to its day (inside the transaction that saved it)."""
    zone = settings.TIME_ZONE
    day = counted_at(measure.kind, measure.started_at, measure.ended_at).astimezone(ZoneInfo(zone)).date()
    row, created = _locked_day(measure.account_id, measure.kind, day, zone)
    if row.zone != zone or (
        created and MeasureDay.objects.filter(account_id=measure.account_id).exclude(zone=zone).exists()
    ):
        # The site's time zone changed since these days were cut: every day moves. The rebuild reads
        # this measure too.
        rebuild(measure.account_id)
        return
    owner = measure.conversation_id or NO_CONVERSATION
    service, service_owners = unpack(row.service), unpack_ids(row.service_conversations)
    wall, wall_owners = unpack(row.wall), unpack_ids(row.wall_conversations)
    _insert(service, service_owners, float(measure.service_seconds), owner)
    _insert(wall, wall_owners, float(measure.wall_seconds), owner)
    _write(
        row.pk,
        len(service),
        {
            "service": pack(service),
            "wall": pack(wall),
            "service_conversations": pack_ids(service_owners),
            "wall_conversations": pack_ids(wall_owners),
        },
    )
    if measure.conversation_id is not None:
        MeasureChannel.objects.bulk_create(
            [MeasureChannel(conversation_id=measure.conversation_id, account_id=measure.account_id)],
            ignore_conflicts=True,
        )


def _write(day_id: int, count: int, arrays: dict[str, bytes]) -> None:
    """A day's new count and arrays. On PostgreSQL as binary parameters: Django binds on the client, which
    writes each array into the statement as hex (64 KB of text for a busy day's four arrays) for the
    server to parse back; that took most of a reply's transaction (bench/service: 12 ms -> 3 ms)."""
    sql = Sql(connection)
    statement = (
        f"UPDATE inbox_measureday SET count = %s, {', '.join(f'{name} = %s' for name in ARRAYS)} "  # noqa: S608
        "WHERE id = %s"
    )
    params = [count, *(arrays[name] for name in ARRAYS), day_id]
    if sql.postgres:
        import psycopg

        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(statement, params)
    else:
        sql.execute(sql.cursor(), statement, params).close()


def _insert(values: array[float], owners: array[int], value: float, owner: int) -> None:
    """Insert in (value, conversation id) order, as digests sorts."""
    low, high = bisect_left(values, value), bisect_right(values, value)
    at = low + bisect_right(owners[low:high], owner)
    values.insert(at, value)
    owners.insert(at, owner)


def _locked_day(account_id: int, kind: str, day: date, zone: str) -> tuple[MeasureDay, bool]:
    rows = MeasureDay.objects.select_for_update()
    row = rows.filter(account_id=account_id, kind=kind, day=day).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return MeasureDay.objects.create(account_id=account_id, kind=kind, day=day, zone=zone), True
    except IntegrityError:  # PostgreSQL: another transaction made the day meanwhile, now committed
        return rows.get(account_id=account_id, kind=kind, day=day), False


def days_between(
    account_id: int, kind: str, first: date, last: date, arrays: tuple[str, ...]
) -> list[tuple[Any, ...]] | None:
    """(day, *arrays) of the days from first to last that have measures, in day order, each of `arrays`
    (of ARRAYS) as pack's or pack_ids' bytes; None when a day was cut in another time zone than the site's
    (then only the measures themselves answer, until the next measure rebuilds the digest)."""
    if not arrays or set(arrays) - set(ARRAYS):
        raise ValueError(f"not arrays of a MeasureDay: {arrays}")
    sql = Sql(connection)
    # Only the fixed column names checked above are spliced in.
    statement = (
        f"SELECT day, zone, {', '.join(arrays)} FROM inbox_measureday "  # noqa: S608
        "WHERE account_id = %s AND kind = %s AND day >= %s AND day <= %s ORDER BY day"
    )
    params = [account_id, kind, first, last] if sql.postgres else [account_id, kind, str(first), str(last)]
    if sql.postgres:
        import psycopg

        # Binary results: a bytea as text is hex, twice the bytes and a decode per row (a year of a
        # busy inbox took 60-120 ms that way, 15-30 ms binary). Django's client-side cursors cannot.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(statement, params, binary=True)
            found = cursor.fetchall()
    else:
        cursor = sql.execute(sql.cursor(), statement, params)
        # Django's connection converts declared date columns; a plain one would give the text.
        found = [(_date(day), *rest) for day, *rest in cursor.fetchall()]
        cursor.close()
    zone = settings.TIME_ZONE
    if any(row[1] != zone for row in found):
        return None
    return [(row[0], *row[2:]) for row in found]


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
